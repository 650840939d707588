"""patch_level: OS identity, last update, pending (security) updates, reboot, auto-updates."""

from __future__ import annotations

from agent.facts.context import Context
from agent.facts.probes.base import Probe, Reading, for_os
from agent.facts.probes.patch_level import darwin, linux, windows
from agent.facts.probes.patch_level.model import OsIdentity, PatchLevelData
from agent.facts.probes.patch_level.readers import MAX_NAMES, PatchLevelReaders

# Typed as the readers so that mypy checks each OS module has all of them, alike.
LINUX: PatchLevelReaders = linux
DARWIN: PatchLevelReaders = darwin
WINDOWS: PatchLevelReaders = windows


def readers_for(ctx: Context) -> PatchLevelReaders:
    """The OS module that reads this machine."""
    return for_os(ctx, linux=LINUX, darwin=DARWIN, windows=WINDOWS)


def collect(ctx: Context) -> PatchLevelData:
    readers = readers_for(ctx)
    reading = Reading(ctx)
    gaps = reading.gaps
    # Only Windows can fail here without failing the probe: its OS family is still known.
    identity = reading.attempt("os", lambda: readers.read_os_identity(reading)) or OsIdentity(
        os_id=ctx.os_name, os_name=None, os_version=None, os_build=None, kernel=None
    )
    package_manager = reading.attempt(
        "package_manager", lambda: readers.read_package_manager(reading)
    )
    last_update = reading.attempt("last_update_at", lambda: readers.read_last_update(reading))
    checked_at = reading.attempt(
        "updates_checked_at", lambda: readers.read_updates_checked_at(reading)
    )
    reboot = reading.attempt("reboot_pending", lambda: readers.read_reboot_pending(reading))
    auto_updates = reading.attempt("auto_updates", lambda: readers.read_auto_updates(reading))
    # The update catalogue last: on macOS it is a network scan that may take most of the budget.
    pending = reading.attempt("pending_updates", lambda: readers.read_pending_updates(reading))
    security = reading.attempt(
        "pending_security_updates", lambda: readers.read_security_updates(reading)
    )
    if security is None:
        gaps["security_updates"] = gaps["pending_security_updates"]
    return PatchLevelData(
        os=identity,
        package_manager=package_manager,
        last_update_at=last_update,
        pending_updates=pending,
        pending_security_updates=None if security is None else security.count,
        security_updates=None if security is None else security.names[:MAX_NAMES],
        updates_checked_at=checked_at,
        reboot_pending=reboot,
        auto_updates=auto_updates,
        gaps=gaps,
    )


PROBE = Probe(
    name="patch_level",
    summary=(
        "OS identity, when updates were last installed, pending (security) updates, "
        "reboot pending, automatic updates."
    ),
    data_type=PatchLevelData,
    collect=collect,
    timeout_s=90.0,
)
