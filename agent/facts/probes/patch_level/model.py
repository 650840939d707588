"""The patch_level probe's data: OS identity and how up to date it is."""

from __future__ import annotations

from dataclasses import dataclass

from agent.report import Gaps, fact, gaps_field


@dataclass(frozen=True, kw_only=True)
class OsIdentity:
    """Which operating system this is."""

    os_id: str | None = fact("Short OS id: debian, ubuntu, fedora, rhel, windows, macos...")
    os_name: str | None = fact("Human name, e.g. 'Debian GNU/Linux 12 (bookworm)'.")
    os_version: str | None = fact("Version compared with the policy minimum, e.g. '12.11', '14.5'.")
    os_build: str | None = fact("Build number or codename (Windows build.UBR, macOS build).")
    kernel: str | None = fact("Kernel release.")


@dataclass(frozen=True, kw_only=True)
class PatchLevelData:
    """Operating system identity, update history, pending updates and reboot state."""

    os: OsIdentity = fact("The operating system.")
    package_manager: str | None = fact("Update source read: apt, dnf, windows_update, ...")
    last_update_at: str | None = fact("When updates were last installed (RFC 3339 UTC).")
    pending_updates: int | None = fact("Updates available but not installed.")
    pending_security_updates: int | None = fact("Of those, how many fix security issues.")
    security_updates: list[str] | None = fact("Names of pending security updates (at most 50).")
    updates_checked_at: str | None = fact("When the update catalogue was last refreshed.")
    reboot_pending: bool | None = fact("A reboot is needed to finish installing updates.")
    auto_updates: bool | None = fact("Updates install automatically.")
    gaps: Gaps = gaps_field()
