"""patch_level: OS identity, last update, pending (security) updates, reboot, auto-updates."""

from __future__ import annotations

from collections.abc import Callable

from agent.facts.context import Context
from agent.facts.probes.base import Probe
from agent.facts.probes.patch_level import darwin, linux, windows
from agent.facts.probes.patch_level.model import PatchLevelData

# One implementation per OS, same function names in each; chosen by the context's OS.
_COLLECTORS: dict[str, Callable[[Context], PatchLevelData]] = {
    "linux": linux.collect,
    "darwin": darwin.collect,
    "windows": windows.collect,
}


def collect(ctx: Context) -> PatchLevelData:
    return _COLLECTORS[ctx.os_name](ctx)


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
