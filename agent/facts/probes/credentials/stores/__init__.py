"""The known credential stores, per OS; each finder adds findings to the scan state."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

from agent.facts.context import Context
from agent.facts.probes.credentials import files
from agent.facts.probes.credentials.per_os import PerOs
from agent.facts.probes.credentials.scan import ScanState
from agent.facts.probes.credentials.stores import (
    browsers,
    clawsmail,
    collaboration,
    databases,
    developer,
    ftp,
    histories,
    mail,
    networkmanager,
    os_stores,
    remote_desktop,
    subversion,
    system_config,
    vaults,
    vpn,
    wifi,
)

Finder = Callable[[Context, ScanState], None]

# Each store module exports FINDERS: a PerOs of its finders for Linux, macOS and Windows.
# Order: the cheap structured stores first; the content scan of files (its own budget) last.
STORE_MODULES: tuple[ModuleType, ...] = (
    browsers,
    mail,
    os_stores,
    networkmanager,
    wifi,
    vpn,
    developer,
    ftp,
    remote_desktop,
    databases,
    subversion,
    clawsmail,
    system_config,
    collaboration,
    vaults,
    histories,
    files,
)


def finders_for(ctx: Context) -> tuple[Finder, ...]:
    """Every store's finders for the machine `ctx` reads, in STORE_MODULES order."""
    finders: list[Finder] = []
    for module in STORE_MODULES:
        table: PerOs[tuple[Finder, ...]] = module.FINDERS
        finders.extend(table.pick(ctx))
    return tuple(finders)
