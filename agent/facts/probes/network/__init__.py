"""network: interfaces, gateways, DNS, Wi-Fi, VPNs and network shares."""

from __future__ import annotations

from collections.abc import Callable

from agent.facts.context import Context
from agent.facts.probes.base import Probe
from agent.facts.probes.network import darwin, linux, windows
from agent.facts.probes.network.model import NetworkData

# One implementation per OS, same function names in each; chosen by the context's OS.
_COLLECTORS: dict[str, Callable[[Context], NetworkData]] = {
    "linux": linux.collect,
    "darwin": darwin.collect,
    "windows": windows.collect,
}


def collect(ctx: Context) -> NetworkData:
    return _COLLECTORS[ctx.os_name](ctx)


PROBE = Probe(
    name="network",
    summary=(
        "Interfaces and addresses, default gateways, DNS servers and search domains, "
        "Wi-Fi SSID and saved profiles, VPNs, network shares."
    ),
    data_type=NetworkData,
    collect=collect,
    timeout_s=30.0,
)
