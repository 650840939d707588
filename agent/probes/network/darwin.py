"""network on macOS: not built yet."""

from __future__ import annotations

from agent.context import Context, ProbeUnsupported
from agent.probes.network.model import NetworkData


def collect(ctx: Context) -> NetworkData:
    raise ProbeUnsupported("network is not implemented on this OS yet")
