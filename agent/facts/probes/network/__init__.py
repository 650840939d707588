"""network: interfaces, gateways, DNS, Wi-Fi, VPNs and network shares."""

from __future__ import annotations

from agent.facts.context import Context
from agent.facts.probes.base import Probe, Reading, for_os
from agent.facts.probes.network import darwin, linux, windows
from agent.facts.probes.network.model import NetworkData
from agent.facts.probes.network.readers import NetworkReaders, saved_wifi_names

# Typed as the readers so that mypy checks each OS module has all of them, alike.
LINUX: NetworkReaders = linux
DARWIN: NetworkReaders = darwin
WINDOWS: NetworkReaders = windows


def collect(ctx: Context) -> NetworkData:
    readers = for_os(ctx, linux=LINUX, darwin=DARWIN, windows=WINDOWS)
    reading = Reading(ctx)
    return NetworkData(
        interfaces=reading.attempt("interfaces", lambda: readers.read_interfaces(reading)),
        gateways=reading.attempt("gateways", lambda: readers.read_gateways(reading)),
        dns_servers=reading.attempt("dns_servers", lambda: readers.read_dns_servers(reading)),
        dns_search_domains=reading.attempt(
            "dns_search_domains", lambda: readers.read_dns_search_domains(reading)
        ),
        wifi_ssids=reading.attempt("wifi_ssids", lambda: readers.read_wifi_ssids(reading)),
        saved_wifi_profiles=reading.attempt(
            "saved_wifi_profiles",
            lambda: saved_wifi_names(readers.read_saved_wifi_profiles(reading)),
        ),
        vpn_connections=reading.attempt("vpn_connections", lambda: readers.read_vpns(reading)),
        network_shares=reading.attempt("network_shares", lambda: readers.read_shares(reading)),
        gaps=reading.gaps,
    )


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
