"""The readers every patch_level OS module exposes, one per fact, and what they give."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from agent.facts.probes.base import Reading
from agent.facts.probes.patch_level.model import OsIdentity

MAX_NAMES = 50  # security update names listed in the report


@dataclass(frozen=True)
class SecurityUpdates:
    """Pending updates that fix security issues: how many, and their names."""

    count: int
    names: list[str]


class PatchLevelReaders(Protocol):
    """What linux.py, darwin.py and windows.py each define; one that cannot read a fact raises
    FactUnavailable saying why."""

    def read_os_identity(self, reading: Reading) -> OsIdentity: ...
    def read_package_manager(self, reading: Reading) -> str: ...
    def read_last_update(self, reading: Reading) -> str | None: ...
    def read_updates_checked_at(self, reading: Reading) -> str: ...
    def read_reboot_pending(self, reading: Reading) -> bool: ...
    def read_auto_updates(self, reading: Reading) -> bool: ...
    def read_pending_updates(self, reading: Reading) -> int: ...
    def read_security_updates(self, reading: Reading) -> SecurityUpdates: ...
