"""device_security on macOS: not built yet."""

from __future__ import annotations

from agent.context import Context, ProbeUnsupported
from agent.probes.device_security.model import DeviceSecurityData


def collect(ctx: Context) -> DeviceSecurityData:
    raise ProbeUnsupported("device_security is not implemented on this OS yet")
