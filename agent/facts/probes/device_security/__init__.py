"""device_security: disk encryption, firewall, screen lock (null when unreadable)."""

from __future__ import annotations

from collections.abc import Callable

from agent.facts.context import Context
from agent.facts.probes.base import Probe
from agent.facts.probes.device_security import darwin, linux, windows
from agent.facts.probes.device_security.model import DeviceSecurityData

# One implementation per OS, same function names in each; chosen by the context's OS.
_COLLECTORS: dict[str, Callable[[Context], DeviceSecurityData]] = {
    "linux": linux.collect,
    "darwin": darwin.collect,
    "windows": windows.collect,
}


def collect(ctx: Context) -> DeviceSecurityData:
    return _COLLECTORS[ctx.os_name](ctx)


PROBE = Probe(
    name="device_security",
    summary="Disk encryption, firewall and screen lock (null when unreadable without privilege).",
    data_type=DeviceSecurityData,
    collect=collect,
    timeout_s=30.0,
)
