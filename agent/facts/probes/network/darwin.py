"""network on macOS: psutil/netifaces, networksetup, route, scutil, ipconfig, system_profiler."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence

from agent.facts.context import Context, FactUnavailable
from agent.facts.probes.base import attempt
from agent.facts.probes.network import common
from agent.facts.probes.network.darwin_parse import (
    parse_mount,
    parse_route_get,
    parse_scutil_dns,
    parse_scutil_nc_list,
)
from agent.facts.probes.network.darwin_wifi import (
    REDACTED_HELP,
    WifiState,
    parse_hardware_ports,
    parse_ipconfig_summary,
    parse_preferred_networks,
    parse_system_profiler_airport,
)
from agent.facts.probes.network.model import (
    Gateway,
    Interface,
    InterfaceKind,
    NetworkData,
    VpnConnection,
)
from agent.report import Gaps

SHORT_TIMEOUT = 5.0
SYSTEM_PROFILER_TIMEOUT = 15.0  # about 2 s normally; the probe's whole budget is 30 s

_TUNNEL_NAMES = re.compile(r"^(utun|ipsec|ppp)\d+$")
_VIRTUAL_NAMES = re.compile(r"^(bridge|awdl|llw|anpi|ap|gif|stf|vmenet|vmnet|feth|pktap|XHC)\d*$")


def port_kind(port: str) -> InterfaceKind:
    """Kind from networksetup's hardware port name ('Wi-Fi', 'USB 10/100/1000 LAN', ...)."""
    lowered = port.lower()
    if "wi-fi" in lowered or "airport" in lowered:
        return "wifi"
    if "iphone" in lowered or "ipad" in lowered:
        return "cellular"  # USB tethering: the traffic leaves over the phone's mobile data
    if "bridge" in lowered:
        return "virtual"
    if "ethernet" in lowered or "lan" in lowered:
        return "ethernet"
    return "other"


def _output(ctx: Context, argv: Sequence[str], timeout: float = SHORT_TIMEOUT) -> str:
    result = ctx.run(argv, timeout=timeout)
    if result.returncode != 0:
        lines = (result.stderr or result.stdout).strip().splitlines()
        detail = lines[-1][:200] if lines else "no output"
        raise FactUnavailable(f"{argv[0]} exited with {result.returncode}: {detail}")
    return result.stdout


def _link_local(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_link_local
    except ValueError:
        return False


def _is_vpn_tunnel(interface: Interface, default_interfaces: set[str]) -> bool:
    """utunN always exist (iCloud Private Relay, Continuity): only a tunnel carrying the default
    route, or holding an IPv4 address (which those system tunnels never get), is a VPN."""
    if interface.name in default_interfaces:
        return True
    return any(a.family == "inet" and not _link_local(a.address) for a in interface.addresses)


def _interfaces(
    ctx: Context, ports: dict[str, str] | None, default_interfaces: set[str]
) -> list[Interface]:
    addrs = ctx.net_if_addrs()
    stats = ctx.net_if_stats()
    interfaces = []
    for name in sorted(set(addrs) | set(stats)):
        if name.startswith("lo"):
            kind: InterfaceKind = "loopback"
        elif ports and name in ports:
            kind = port_kind(ports[name])
        else:
            kind = "virtual" if _VIRTUAL_NAMES.match(name) or _TUNNEL_NAMES.match(name) else "other"
        interface = common.build_interface(name, kind, addrs.get(name, []), stats.get(name))
        if _TUNNEL_NAMES.match(name) and _is_vpn_tunnel(interface, default_interfaces):
            interface = Interface(
                name=name,
                kind="vpn",
                is_up=interface.is_up,
                mac=interface.mac,
                addresses=interface.addresses,
            )
        interfaces.append(interface)
    return interfaces


def _default_route(ctx: Context) -> tuple[str | None, str | None]:
    result = ctx.run(["route", "-n", "get", "default"], timeout=SHORT_TIMEOUT)
    # No default route: "route: writing to routing socket: not in table" on stderr, exit 1.
    text = f"{result.stdout}\n{result.stderr}"
    if result.returncode != 0 and "not in table" not in text:
        raise FactUnavailable(f"route exited with {result.returncode}: {text.strip()[:200]}")
    return parse_route_get(text)


def _gateways(ctx: Context, route: tuple[str | None, str | None] | None) -> list[Gateway]:
    gateways = [
        Gateway(address=g.address.split("%", 1)[0], interface=g.interface, family=g.family)
        for g in common.default_gateways(ctx.gateways())
    ]
    if not any(g.family == "inet" for g in gateways) and route and route[0]:
        gateways.insert(0, Gateway(address=route[0], interface=route[1], family="inet"))
    return gateways


def _wifi_state(ctx: Context, device: str, profiler: dict[str, str]) -> WifiState:
    """ipconfig first (fast); system_profiler when ipconfig hides the SSID or fails."""

    def from_ipconfig() -> WifiState:
        return parse_ipconfig_summary(_output(ctx, ["ipconfig", "getsummary", device]))

    def from_profiler() -> WifiState:
        if "text" not in profiler:  # read once for all Wi-Fi devices
            argv = ["system_profiler", "SPAirPortDataType", "-json"]
            profiler["text"] = _output(ctx, argv, SYSTEM_PROFILER_TIMEOUT)
        return parse_system_profiler_airport(profiler["text"], device)

    failures: Gaps = {}
    hidden = False
    for source, reader in (("ipconfig", from_ipconfig), ("system_profiler", from_profiler)):
        state = attempt(failures, source, reader)
        if state is not None and state.state != "hidden":
            return state
        hidden = hidden or state is not None
    details = "; ".join(f"{source}: {why}" for source, why in failures.items())
    if hidden:
        raise FactUnavailable(f"{REDACTED_HELP} ({details})" if details else REDACTED_HELP)
    raise FactUnavailable(details)


def _wifi_ssids(ctx: Context, devices: list[str]) -> list[str]:
    profiler: dict[str, str] = {}
    states = [_wifi_state(ctx, device, profiler) for device in devices]
    return [s.ssid for s in states if s.state == "connected" and s.ssid]


def _saved_wifi(ctx: Context, devices: list[str]) -> list[str]:
    names: list[str] = []
    for device in devices:
        argv = ["networksetup", "-listpreferredwirelessnetworks", device]
        names += parse_preferred_networks(_output(ctx, argv))
    return list(dict.fromkeys(names))


def _vpns(ctx: Context, interfaces: list[Interface], route_failure: Gaps) -> list[VpnConnection]:
    if route_failure:
        # Without the default route a full-tunnel VPN on a utun cannot be told from the others.
        raise FactUnavailable("; ".join(f"{k}: {v}" for k, v in route_failure.items()))
    services = parse_scutil_nc_list(_output(ctx, ["scutil", "--nc", "list"]))
    vpns = [
        VpnConnection(name=s.name, kind=s.kind, remote=None, addresses=[])
        for s in services
        if s.state == "Connected"
    ]
    vpns += [
        VpnConnection(
            name=i.name,
            kind="tunnel",
            remote=None,
            addresses=[a.address for a in i.addresses if not _link_local(a.address)],
        )
        for i in interfaces
        if i.kind == "vpn"
    ]
    return vpns


def collect(ctx: Context) -> NetworkData:
    gaps: Gaps = {}
    ports = attempt(
        gaps,
        "interfaces.kind",
        lambda: parse_hardware_ports(_output(ctx, ["networksetup", "-listallhardwareports"])),
    )
    route_failure: Gaps = {}
    route = attempt(route_failure, "route -n get default", lambda: _default_route(ctx))
    raw_gateways = attempt(gaps, "gateways", lambda: _gateways(ctx, route))
    default_interfaces = {g.interface for g in raw_gateways or [] if g.interface}
    if route and route[1]:
        default_interfaces.add(route[1])
    interfaces = _interfaces(ctx, ports, default_interfaces)
    wifi_devices = sorted(d for d, port in (ports or {}).items() if port_kind(port) == "wifi")
    dns = attempt(gaps, "dns_servers", lambda: parse_scutil_dns(_output(ctx, ["scutil", "--dns"])))
    if dns is None:
        gaps["dns_search_domains"] = gaps["dns_servers"]
    vpns = attempt(gaps, "vpn_connections", lambda: _vpns(ctx, interfaces, route_failure))
    shares = attempt(gaps, "network_shares", lambda: parse_mount(_output(ctx, ["mount"])))
    wifi_ssids = saved = None
    if ports is None:
        gaps["wifi_ssids"] = gaps["saved_wifi_profiles"] = (
            f"the Wi-Fi device is unknown: {gaps['interfaces.kind']}"
        )
    else:
        saved = attempt(gaps, "saved_wifi_profiles", lambda: _saved_wifi(ctx, wifi_devices))
        wifi_ssids = attempt(gaps, "wifi_ssids", lambda: _wifi_ssids(ctx, wifi_devices))
    return NetworkData(
        interfaces=interfaces,
        gateways=raw_gateways,
        dns_servers=dns[0] if dns else None,
        dns_search_domains=dns[1] if dns else None,
        wifi_ssids=wifi_ssids,
        saved_wifi_profiles=saved,
        vpn_connections=vpns,
        network_shares=shares,
        gaps=gaps,
    )
