"""network on macOS: psutil/netifaces, networksetup, route, scutil, ipconfig, system_profiler."""

from __future__ import annotations

import ipaddress
import re

from agent.facts.context import FactUnavailable
from agent.facts.probes.base import Reading, attempt, reason, run_checked
from agent.facts.probes.network import parse
from agent.facts.probes.network.darwin_parse import (
    REDACTED_HELP,
    WifiState,
    parse_hardware_ports,
    parse_ipconfig_summary,
    parse_mount,
    parse_preferred_networks,
    parse_route_get,
    parse_scutil_dns,
    parse_scutil_nc_list,
    parse_system_profiler_airport,
    port_kind,
    wifi_devices,
)
from agent.facts.probes.network.model import (
    Gateway,
    Interface,
    InterfaceKind,
    NetworkShare,
    VpnConnection,
)
from agent.facts.probes.network.readers import SavedWifi
from agent.report import Gaps

SHORT_TIMEOUT = 5.0
SYSTEM_PROFILER_TIMEOUT = 15.0  # about 2 s normally; the probe's whole budget is 30 s
ROUTE = "route -n get default"

_TUNNEL_NAMES = re.compile(r"^(utun|ipsec|ppp)\d+$")
_VIRTUAL_NAMES = re.compile(r"^(bridge|awdl|llw|anpi|ap|gif|stf|vmenet|vmnet|feth|pktap|XHC)\d*$")
Route = tuple[str | None, str | None]


def read_interfaces(reading: Reading) -> list[Interface]:
    return reading.shared("interfaces", lambda: _interfaces(reading))


def read_gateways(reading: Reading) -> list[Gateway]:
    return reading.shared("gateways", lambda: _gateways(reading))


def read_dns_servers(reading: Reading) -> list[str]:
    return _dns(reading)[0]


def read_dns_search_domains(reading: Reading) -> list[str]:
    return _dns(reading)[1]


def read_wifi_ssids(reading: Reading) -> list[str]:
    profiler: dict[str, str] = {}
    states = [_wifi_state(reading, device, profiler) for device in _wifi_devices(reading)]
    return [s.ssid for s in states if s.state == "connected" and s.ssid]


def read_saved_wifi_profiles(reading: Reading) -> list[SavedWifi]:
    """The preferred (remembered) networks of every Wi-Fi device, one place per device."""
    places = []
    for device in _wifi_devices(reading):
        location = f"preferred networks of {device}"
        argv = ["networksetup", "-listpreferredwirelessnetworks", device]
        try:
            names = parse_preferred_networks(run_checked(reading.ctx, argv, SHORT_TIMEOUT))
        except FactUnavailable as exc:
            places.append(SavedWifi(location=location, names=[], failure=exc))
            continue
        places.append(SavedWifi(location=location, names=names))
    return places


def read_vpns(reading: Reading) -> list[VpnConnection]:
    try:
        _route(reading)
    except FactUnavailable as exc:
        # Without the default route a full-tunnel VPN on a utun cannot be told from the others.
        raise FactUnavailable(f"{ROUTE}: {reason(exc)}") from exc
    listing = run_checked(reading.ctx, ["scutil", "--nc", "list"], SHORT_TIMEOUT)
    vpns = [
        VpnConnection(name=s.name, kind=s.kind, remote=None, addresses=[])
        for s in parse_scutil_nc_list(listing)
        if s.state == "Connected"
    ]
    vpns += [
        VpnConnection(
            name=i.name,
            kind="tunnel",
            remote=None,
            addresses=[a.address for a in i.addresses if not _link_local(a.address)],
        )
        for i in read_interfaces(reading)
        if i.kind == "vpn"
    ]
    return vpns


def read_shares(reading: Reading) -> list[NetworkShare]:
    return parse_mount(run_checked(reading.ctx, ["mount"], SHORT_TIMEOUT))


def _ports(reading: Reading) -> dict[str, str]:
    """Device -> hardware port ("en0" -> "Wi-Fi"), read once."""
    argv = ["networksetup", "-listallhardwareports"]
    return reading.shared(
        "hardware ports",
        lambda: parse_hardware_ports(run_checked(reading.ctx, argv, SHORT_TIMEOUT)),
    )


def _wifi_devices(reading: Reading) -> list[str]:
    try:
        return wifi_devices(_ports(reading))
    except FactUnavailable as exc:
        raise FactUnavailable(f"the Wi-Fi device is unknown: {reason(exc)}") from exc


def _route(reading: Reading) -> Route:
    """(gateway, interface) of the default route, read once."""

    def read() -> Route:
        result = reading.ctx.run(ROUTE.split(), timeout=SHORT_TIMEOUT)
        # No default route: "route: writing to routing socket: not in table" on stderr, exit 1.
        text = f"{result.stdout}\n{result.stderr}"
        if result.returncode != 0 and "not in table" not in text:
            raise FactUnavailable(f"route exited with {result.returncode}: {text.strip()[:200]}")
        return parse_route_get(text)

    return reading.shared(ROUTE, read)


def _known_route(reading: Reading) -> Route:
    """The default route, or none when it could not be read (read_vpns says why)."""
    try:
        return _route(reading)
    except FactUnavailable:
        return None, None


def _gateways(reading: Reading) -> list[Gateway]:
    gateways = [
        Gateway(address=g.address.split("%", 1)[0], interface=g.interface, family=g.family)
        for g in parse.default_gateways(reading.ctx.gateways())
    ]
    address, interface = _known_route(reading)
    if not any(g.family == "inet" for g in gateways) and address:
        gateways.insert(0, Gateway(address=address, interface=interface, family="inet"))
    return gateways


def _default_interfaces(reading: Reading) -> set[str]:
    """Interfaces carrying a default route (unreadable gateways count as none: their gap says
    why)."""
    try:
        gateways = read_gateways(reading)
    except FactUnavailable:
        gateways = []
    default = {g.interface for g in gateways if g.interface}
    interface = _known_route(reading)[1]
    return default | {interface} if interface else default


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


def _interfaces(reading: Reading) -> list[Interface]:
    ports = attempt(reading.gaps, "interfaces.kind", lambda: _ports(reading))
    default_interfaces = _default_interfaces(reading)
    addrs = reading.ctx.net_if_addrs()
    stats = reading.ctx.net_if_stats()
    interfaces = []
    for name in sorted(set(addrs) | set(stats)):
        if name.startswith("lo"):
            kind: InterfaceKind = "loopback"
        elif ports and name in ports:
            kind = port_kind(ports[name])
        else:
            kind = "virtual" if _VIRTUAL_NAMES.match(name) or _TUNNEL_NAMES.match(name) else "other"
        interface = parse.build_interface(name, kind, addrs.get(name, []), stats.get(name))
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


def _dns(reading: Reading) -> tuple[list[str], list[str]]:
    return reading.shared(
        "scutil --dns",
        lambda: parse_scutil_dns(run_checked(reading.ctx, ["scutil", "--dns"], SHORT_TIMEOUT)),
    )


def _wifi_state(reading: Reading, device: str, profiler: dict[str, str]) -> WifiState:
    """ipconfig first (fast); system_profiler when ipconfig hides the SSID or fails."""
    ctx = reading.ctx

    def from_ipconfig() -> WifiState:
        argv = ["ipconfig", "getsummary", device]
        return parse_ipconfig_summary(run_checked(ctx, argv, SHORT_TIMEOUT))

    def from_profiler() -> WifiState:
        if "text" not in profiler:  # read once for all Wi-Fi devices
            argv = ["system_profiler", "SPAirPortDataType", "-json"]
            profiler["text"] = run_checked(ctx, argv, SYSTEM_PROFILER_TIMEOUT)
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
