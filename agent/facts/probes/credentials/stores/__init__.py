"""The known credential stores, per OS; each finder adds findings to the scan state."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

from agent.facts.context import Context
from agent.facts.probes.credentials import files
from agent.facts.probes.credentials.scan import ScanState
from agent.facts.probes.credentials.stores import (
    browsers,
    developer,
    mail,
    networkmanager,
    os_stores,
    vpn,
    wifi,
)

Finder = Callable[[Context, ScanState], None]

# Each store module exports FINDERS: {"linux": (...), "darwin": (...), "windows": (...)}.
# Order: the cheap structured stores first; the content scan of files (its own budget) last.
STORE_MODULES: tuple[ModuleType, ...] = (
    browsers,
    mail,
    os_stores,
    networkmanager,
    wifi,
    vpn,
    developer,
    files,
)


def finders_for(os_name: str) -> tuple[Finder, ...]:
    finders: list[Finder] = []
    for module in STORE_MODULES:
        finders.extend(module.FINDERS.get(os_name, ()))
    return tuple(finders)
