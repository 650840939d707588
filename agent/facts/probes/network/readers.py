"""The readers every network OS module exposes, one per fact, and what they give."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from agent.facts.context import FactUnavailable
from agent.facts.probes.base import Reading
from agent.facts.probes.network.model import Gateway, Interface, NetworkShare, VpnConnection


@dataclass(frozen=True)
class SavedWifi:
    """Saved Wi-Fi network names from one place that keeps them (a Mac's Wi-Fi device, netsh,
    NetworkManager and iwd); `failure` says why that place could not be read. The network probe
    and the credential scan both enumerate saved profiles through this."""

    location: str
    names: list[str]
    failure: FactUnavailable | None = None


def saved_wifi_names(places: list[SavedWifi]) -> list[str]:
    """Every saved network name once, in order; the first place that failed fails them all."""
    names: list[str] = []
    for place in places:
        if place.failure is not None:
            raise place.failure
        names += place.names
    return list(dict.fromkeys(names))


class NetworkReaders(Protocol):
    """What linux.py, darwin.py and windows.py each define; one that cannot read a fact raises
    FactUnavailable saying why."""

    def read_interfaces(self, reading: Reading) -> list[Interface]: ...
    def read_gateways(self, reading: Reading) -> list[Gateway]: ...
    def read_dns_servers(self, reading: Reading) -> list[str]: ...
    def read_dns_search_domains(self, reading: Reading) -> list[str]: ...
    def read_wifi_ssids(self, reading: Reading) -> list[str]: ...
    def read_saved_wifi_profiles(self, reading: Reading) -> list[SavedWifi]: ...
    def read_vpns(self, reading: Reading) -> list[VpnConnection]: ...
    def read_shares(self, reading: Reading) -> list[NetworkShare]: ...
