"""patch_level on macOS: not built yet."""

from __future__ import annotations

from agent.context import Context, ProbeUnsupported
from agent.probes.patch_level.model import OsIdentity, PatchLevelData


def collect(ctx: Context) -> PatchLevelData:
    raise ProbeUnsupported("patch_level is not implemented on this OS yet")


def read_os_identity(ctx: Context) -> OsIdentity:
    raise ProbeUnsupported("OS identity is not read on this OS yet")
