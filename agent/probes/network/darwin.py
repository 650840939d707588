"""network on macOS: psutil/netifaces, networksetup, route, scutil, ipconfig, system_profiler."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass

from agent.context import Context, FactUnavailable, ParseError
from agent.probes.base import Gaps, attempt
from agent.probes.network import common
from agent.probes.network.darwin_wifi import (
    REDACTED_HELP,
    WifiState,
    parse_hardware_ports,
    parse_ipconfig_summary,
    parse_preferred_networks,
    parse_system_profiler_airport,
)
from agent.probes.network.model import (
    Gateway,
    Interface,
    InterfaceKind,
    NetworkData,
    NetworkShare,
    VpnConnection,
)

SHORT_TIMEOUT = 5.0
SYSTEM_PROFILER_TIMEOUT = 15.0  # about 2 s normally; the probe's whole budget is 30 s

_TUNNEL_NAMES = re.compile(r"^(utun|ipsec|ppp)\d+$")
_VIRTUAL_NAMES = re.compile(r"^(bridge|awdl|llw|anpi|ap|gif|stf|vmenet|vmnet|feth|pktap)\d*$")
_VPN_VENDORS = (
    ("paloalto", "globalprotect"),
    ("globalprotect", "globalprotect"),
    ("cisco", "anyconnect"),
    ("anyconnect", "anyconnect"),
    ("wireguard", "wireguard"),
    ("openvpn", "openvpn"),
    ("tunnelblick", "openvpn"),
    ("fortinet", "fortinet"),
    ("pulse", "pulse"),
    ("ivanti", "pulse"),
    ("zscaler", "zscaler"),
    ("tailscale", "tailscale"),
    ("ikev2", "ikev2"),
    ("ipsec", "ipsec"),
    ("l2tp", "l2tp"),
    ("pptp", "pptp"),
)


@dataclass(frozen=True)
class NcService:
    """One line of `scutil --nc list`."""

    state: str
    name: str
    kind: str


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


def parse_route_get(text: str) -> tuple[str | None, str | None]:
    """(gateway, interface) of the default route from `route -n get default`.

       route to: default
    destination: default
        gateway: 192.168.1.1
      interface: en0
    ("route: writing to routing socket: not in table" when there is no default route)
    """
    if "not in table" in text:
        return None, None
    values: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() in {"gateway", "interface"}:
            values[key.strip()] = value.strip()
    if "interface" not in values:
        raise ParseError("route -n get default printed no 'interface:' line")
    gateway = values.get("gateway", "")
    try:
        ipaddress.ip_address(gateway.split("%", 1)[0])
    except ValueError:
        gateway = ""  # a link route (link#12) or none: the interface alone carries it
    return gateway.split("%", 1)[0] or None, values["interface"]


def parse_scutil_dns(text: str) -> tuple[list[str], list[str]]:
    """Name servers and search domains from the first section of `scutil --dns`.

    DNS configuration

    resolver #1
      search domain[0] : corp.example.com
      nameserver[0] : 10.10.0.53
    resolver #2
      domain   : local          <- with "options : mdns": Bonjour, skipped
    DNS configuration (for scoped queries)   <- per-interface copies, not read
    A split-DNS resolver ("domain : corp.example.com" with its own name servers, as VPN
    clients add) counts: its domain as a search domain, its servers as DNS servers.
    """
    lines = [line for line in text.splitlines() if line.strip()]
    if lines and lines[0].strip() == "No DNS configuration available":
        return [], []
    if not lines or lines[0].strip() != "DNS configuration":
        raise ParseError("scutil --dns did not start with 'DNS configuration'")
    resolvers: list[dict[str, list[str]]] = []
    for line in lines[1:]:
        if line.startswith("DNS configuration"):
            break
        if line.startswith("resolver #"):
            resolvers.append({})
            continue
        match = re.match(r"^\s+([a-z_ ]+?)(?:\[\d+\])?\s*:\s*(.*)$", line)
        if match and resolvers:
            resolvers[-1].setdefault(match.group(1), []).append(match.group(2).strip())
    servers: list[str] = []
    domains: list[str] = []
    for resolver in resolvers:
        if "mdns" in " ".join(resolver.get("options", [])):
            continue
        servers += [s.split("%", 1)[0] for s in resolver.get("nameserver", [])]
        names = resolver.get("search domain", []) + resolver.get("domain", [])
        domains += [d.rstrip(".") for d in names if d and not d.rstrip(".").endswith(".arpa")]
    return list(dict.fromkeys(servers)), list(dict.fromkeys(domains))


_NC_LINE = re.compile(
    r'^\s*\*?\s*\((?P<state>[^)]*)\)\s+[0-9A-Fa-f-]{36}\s+(?P<type>.*?)\s*"(?P<name>[^"]*)"'
    r"\s*(?:\[(?P<sub>[^\]]*)\])?\s*$"
)


def parse_scutil_nc_list(text: str) -> list[NcService]:
    """Network connection (VPN) services from `scutil --nc list`.

    Available network connection services in the current set (*=enabled):
    * (Connected)      4F1D2C3B-1234-4ABC-9DEF-0123456789AB VPN (com.paloaltonetworks.Glo...
      ...balProtect.client) "GlobalProtect"   [VPN/com.paloaltonetworks.GlobalProtect.client]
    * (Disconnected)   A1B2C3D4-5E6F-4A7B-8C9D-0E1F2A3B4C5D IPSec   "Corp IPSec"   [IPSec]
    (constructed: the format public scripts grep for "(Connected)")
    """
    services = []
    header = False
    for line in text.splitlines():
        if line.startswith("Available network connection services"):
            header = True
            continue
        match = _NC_LINE.match(line)
        if match:
            lowered = f"{match['type']} {match['sub'] or ''}".lower()
            kind = next((k for word, k in _VPN_VENDORS if word in lowered), "vpn")
            services.append(NcService(match["state"].strip(), match["name"], kind))
        elif line.strip():
            raise ParseError(f"unexpected scutil --nc line: {line.strip()[:120]!r}")
    if not header:
        raise ParseError("scutil --nc list printed no service list header")
    return services


_MOUNT_LINE = re.compile(r"^(?P<src>.+) on (?P<mnt>.+) \((?P<fstype>[^,()]+)(?:, (?P<opts>.*))?\)$")
_PASSWORD = re.compile(r"^(//|[a-z][a-z0-9+.-]*://)([^:@/]+):[^@/]*@", re.IGNORECASE)


def parse_mount(text: str) -> list[NetworkShare]:
    """Network file systems (smbfs, nfs, afpfs, webdav) from `mount`.

    /dev/disk3s1s1 on / (apfs, sealed, local, read-only, journaled)
    //alice@fs01.corp.example.com/projects on /Volumes/projects (smbfs, nodev, nosuid, ...)
    nas01.corp.example.com:/export/scratch on /Volumes/scratch (nfs, nodev, nosuid, ...)
    A password in the source (//user:secret@host) is dropped; the user name stays.
    """
    shares = []
    for line in text.splitlines():
        if not line.strip():
            continue
        match = _MOUNT_LINE.match(line.strip())
        if match is None:
            raise ParseError(f"unexpected mount line: {line.strip()[:120]!r}")
        if match["fstype"] in common.NETWORK_FSTYPES:
            source = _PASSWORD.sub(r"\1\2@", match["src"])
            shares.append(
                NetworkShare(
                    source=source,
                    mountpoint=match["mnt"],
                    fstype=match["fstype"],
                    host=common.share_host(source),
                )
            )
    return shares


def _output(ctx: Context, argv: Sequence[str], timeout: float = SHORT_TIMEOUT) -> str:
    result = ctx.run(argv, timeout=timeout)
    if result.returncode != 0:
        lines = (result.stderr or result.stdout).strip().splitlines()
        detail = lines[-1][:200] if lines else "no output"
        raise FactUnavailable(f"{argv[0]} exited with {result.returncode}: {detail}")
    return result.stdout


def _is_vpn_tunnel(interface: Interface, default_interfaces: set[str]) -> bool:
    """utunN always exist (iCloud Private Relay, Continuity): only a tunnel carrying the default
    route, or holding an IPv4 address (which those system tunnels never get), is a VPN."""
    if interface.name in default_interfaces:
        return True
    return any(
        a.family == "inet" and not ipaddress.ip_address(a.address).is_link_local
        for a in interface.addresses
    )


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


def _vpns(
    ctx: Context, interfaces: list[Interface], route: tuple[str | None, str | None] | None
) -> list[VpnConnection]:
    if route is None:
        raise FactUnavailable("the default route could not be read (route -n get default)")
    services = parse_scutil_nc_list(_output(ctx, ["scutil", "--nc", "list"]))
    vpns = [
        VpnConnection(name=s.name, kind=s.kind, remote=None, addresses=[])
        for s in services
        if s.state == "Connected"
    ]
    for interface in interfaces:
        if interface.kind == "vpn":
            addresses = [
                a.address
                for a in interface.addresses
                if not ipaddress.ip_address(a.address).is_link_local
            ]
            vpns.append(
                VpnConnection(name=interface.name, kind="tunnel", remote=None, addresses=addresses)
            )
    return vpns


def collect(ctx: Context) -> NetworkData:
    gaps: Gaps = {}
    ports = attempt(
        gaps,
        "interfaces.kind",
        lambda: parse_hardware_ports(_output(ctx, ["networksetup", "-listallhardwareports"])),
    )
    route_gaps: Gaps = {}
    route = attempt(
        route_gaps, "route", lambda: parse_route_get(_output(ctx, ["route", "-n", "get", "default"]))
    )
    raw_gateways = attempt(gaps, "gateways", lambda: _gateways(ctx, route))
    default_interfaces = {g.interface for g in raw_gateways or [] if g.interface}
    if route and route[1]:
        default_interfaces.add(route[1])
    interfaces = _interfaces(ctx, ports, default_interfaces)
    wifi_devices = sorted(d for d, port in (ports or {}).items() if port_kind(port) == "wifi")
    dns = attempt(gaps, "dns_servers", lambda: parse_scutil_dns(_output(ctx, ["scutil", "--dns"])))
    if dns is None:
        gaps["dns_search_domains"] = gaps["dns_servers"]
    vpns = attempt(gaps, "vpn_connections", lambda: _vpns(ctx, interfaces, route))
    if route is None and "vpn_connections" in gaps:
        gaps["vpn_connections"] = f"{gaps['vpn_connections']}: {route_gaps['route']}"
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
