"""The readers every device_security OS module exposes, one per setting."""

from __future__ import annotations

from typing import Protocol

from agent.facts.probes.base import Reading
from agent.facts.probes.device_security.model import Finding


class DeviceSecurityReaders(Protocol):
    """What linux.py, darwin.py and windows.py each define; each gives (on, what was seen) or
    raises FactUnavailable saying why it cannot tell."""

    def read_disk_encryption(self, reading: Reading) -> Finding: ...
    def read_firewall(self, reading: Reading) -> Finding: ...
    def read_screen_lock(self, reading: Reading) -> Finding: ...
