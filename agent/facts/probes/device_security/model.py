"""The device_security probe's data: encryption, firewall, screen lock."""

from __future__ import annotations

from dataclasses import dataclass

from agent.report import Gaps, fact, gaps_field


@dataclass(frozen=True, kw_only=True)
class DeviceSecurityData:
    """Disk encryption, firewall and screen lock; null when unreadable, never false."""

    disk_encrypted: bool | None = fact("The system disk is encrypted (LUKS, BitLocker, FileVault).")
    disk_encryption_detail: str | None = fact("What was seen, e.g. 'root on LUKS2 (dm-0)'.")
    firewall_enabled: bool | None = fact("A host firewall is on.")
    firewall_detail: str | None = fact("Which firewall and its state.")
    screen_lock_enabled: bool | None = fact("The screen locks itself when idle.")
    screen_lock_detail: str | None = fact("Lock delay or the setting read.")
    gaps: Gaps = gaps_field()


Finding = tuple[bool, str]
"""A security setting read: (on, what was seen)."""


def device_security(
    gaps: Gaps, disk: Finding | None, firewall: Finding | None, lock: Finding | None
) -> DeviceSecurityData:
    """The probe's data from the three findings each OS reads its own way (None: unknown).
    A detail is unknown for the same reason as its finding, and its gap says so too."""
    for field, detail, finding in (
        ("disk_encrypted", "disk_encryption_detail", disk),
        ("firewall_enabled", "firewall_detail", firewall),
        ("screen_lock_enabled", "screen_lock_detail", lock),
    ):
        if finding is None and field in gaps:
            gaps[detail] = gaps[field]
    return DeviceSecurityData(
        disk_encrypted=disk[0] if disk else None,
        disk_encryption_detail=disk[1] if disk else None,
        firewall_enabled=firewall[0] if firewall else None,
        firewall_detail=firewall[1] if firewall else None,
        screen_lock_enabled=lock[0] if lock else None,
        screen_lock_detail=lock[1] if lock else None,
        gaps=gaps,
    )
