"""The known credential stores, per OS; each finder adds findings to the scan state."""

from __future__ import annotations

from collections.abc import Callable

from agent.context import Context
from agent.probes.credentials.scan import ScanState

Finder = Callable[[Context, ScanState], None]

LINUX: tuple[Finder, ...] = ()
DARWIN: tuple[Finder, ...] = ()
WINDOWS: tuple[Finder, ...] = ()


def finders_for(os_name: str) -> tuple[Finder, ...]:
    return {"linux": LINUX, "darwin": DARWIN, "windows": WINDOWS}[os_name]
