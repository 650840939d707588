"""Host identity on macOS: the hardware UUID (IOPlatformUUID) from the I/O Registry."""

from __future__ import annotations

from agent.facts.context import Context
from agent.facts.host.darwin_parse import parse_platform_uuid
from agent.facts.probes.base import run_checked


def read_hardware_id(ctx: Context) -> str:
    """The raw IOPlatformUUID; the caller hashes it with a salt and never reports it as is."""
    argv = ["ioreg", "-rd1", "-c", "IOPlatformExpertDevice"]
    return parse_platform_uuid(run_checked(ctx, argv, timeout=5.0))
