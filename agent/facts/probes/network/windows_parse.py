"""Parsers for the Windows network probe: the parts of NETWORK_SCRIPT's JSON output."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any, Literal

from agent.facts.context import FactUnavailable, ParseError
from agent.facts.probes.base import attempt
from agent.facts.probes.network.model import (
    Address,
    Gateway,
    Interface,
    InterfaceKind,
    NetworkShare,
    VpnConnection,
)
from agent.facts.probes.network.windows_netsh_parse import (
    netsh_output,
    parse_netsh_profiles,
    parse_netsh_ssids,
)
from agent.facts.probes.powershell_parse import (
    list_field,
    obj,
    opt_bool,
    opt_int,
    opt_str,
    parse_json,
    part,
)

Family = Literal["inet", "inet6"]
_FAMILIES: dict[int, Family] = {2: "inet", 23: "inet6"}  # AddressFamily enum values

# InterfaceDescription is the driver's name: it is not translated, unlike the friendly name.
_VPN_DESCRIPTIONS = [
    (re.compile(pattern, re.I), kind)
    for pattern, kind in (
        (r"PANGP", "globalprotect"),
        (r"AnyConnect|Cisco Secure Client", "anyconnect"),
        (r"WireGuard", "wireguard"),
        (r"Tailscale", "tailscale"),
        (r"TAP-Windows|OpenVPN|TAP-NordVPN|TAP-ProtonVPN", "openvpn"),
        (r"Fortinet|FortiClient", "fortinet"),
        (r"Juniper|Pulse Secure|Ivanti", "pulse"),
        (r"Check Point Virtual Network", "checkpoint"),
        (r"SonicWall|NetExtender", "sonicwall"),
        (r"ZeroTier", "zerotier"),
        (r"Wintun", "wintun"),
        (r"WAN Miniport", "ras"),
    )
]
_VIRTUAL_DESCRIPTIONS = re.compile(
    r"Hyper-V Virtual Ethernet|VirtualBox Host-Only|VMware Virtual Ethernet|Wi-Fi Direct Virtual"
    r"|Hosted Network Virtual|KM-TEST Loopback|Npcap Loopback|Parallels",
    re.I,
)
# IPv6 placeholders Windows lists when an interface has no IPv6 DNS server configured.
_DNS_PLACEHOLDERS = {"fec0:0:0:ffff::1", "fec0:0:0:ffff::2", "fec0:0:0:ffff::3"}
_UNC = re.compile(r"^\\\\(?P<host>[^\\@]+)(?P<ssl>@SSL)?(?:@\d+)?(?:\\|$)", re.I)
_DOC = "powershell network"


@dataclass(frozen=True)
class Adapter:
    """One Get-NetAdapter row, its kind decided."""

    index: int
    name: str
    description: str
    mac: str | None
    up: bool
    kind: InterfaceKind


def vpn_kind(description: str) -> str | None:
    """'PANGP Virtual Ethernet Adapter Secure' -> 'globalprotect'; None when not a VPN driver."""
    for pattern, kind in _VPN_DESCRIPTIONS:
        if pattern.search(description):
            return kind
    return None


def adapter_kind(adapter: dict[str, Any]) -> InterfaceKind:
    """Kind of one Get-NetAdapter row, from language-neutral values only.

    Sample: {"Description":"Intel(R) Wi-Fi 6 AX201 160MHz","MediaType":"Native 802.11",
    "PhysicalMediaType":"Native 802.11","NdisPhysicalMedium":9,"InterfaceType":71,
    "HardwareInterface":true}
    """
    description = opt_str(adapter, "Description") or ""
    medium = opt_int(adapter, "NdisPhysicalMedium")
    if_type = opt_int(adapter, "InterfaceType")
    media = {(opt_str(adapter, k) or "").lower() for k in ("MediaType", "PhysicalMediaType")}
    if vpn_kind(description) or if_type in (23, 131):  # 23 = PPP, 131 = tunnel
        return "vpn"
    if _VIRTUAL_DESCRIPTIONS.search(description):
        return "virtual"
    if if_type == 24:
        return "loopback"
    if medium == 9 or if_type == 71 or "native 802.11" in media:
        return "wifi"
    if medium == 8 or if_type in (243, 244) or "wireless wan" in media:
        return "cellular"
    if medium == 10 or "bluetooth" in media:  # Bluetooth PAN calls itself 802.3 too
        return "other"
    if medium == 14 or if_type == 6 or "802.3" in media:
        return "virtual" if opt_bool(adapter, "HardwareInterface") is False else "ethernet"
    return "other"


def network_doc(text: str) -> Any:
    return parse_json(text, _DOC)


def read_adapters(doc: Any) -> list[Adapter]:
    adapters = []
    for item in list_field(obj(part(doc, "adapters"), "adapters"), "Adapters"):
        row = obj(item, "adapter")
        index, name = opt_int(row, "ifIndex"), opt_str(row, "Name")
        if index is None or name is None:
            raise ParseError("adapter without ifIndex or Name")
        mac = opt_str(row, "MacAddress")
        adapters.append(
            Adapter(
                index=index,
                name=name,
                description=opt_str(row, "Description") or "",
                mac=mac.replace("-", ":").lower() if mac else None,
                up=(opt_str(row, "Status") or "").lower() == "up",
                kind=adapter_kind(row),
            )
        )
    return adapters


def _address(text: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    try:
        return ipaddress.ip_address((text or "").split("%", 1)[0])
    except ValueError as exc:
        raise ParseError(f"not an IP address: {text!r}"[:80]) from exc


def _addresses(doc: Any) -> tuple[dict[int, list[Address]], dict[int, str]]:
    """ifIndex -> addresses, and ifIndex -> alias, from Get-NetIPAddress."""
    by_index: dict[int, list[Address]] = {}
    aliases: dict[int, str] = {}
    for item in list_field(obj(part(doc, "ip"), "ip"), "Addresses"):
        row = obj(item, "address")
        index, family = opt_int(row, "ifIndex"), _FAMILIES.get(opt_int(row, "AddressFamily") or 0)
        if index is None or family is None:
            raise ParseError("address without ifIndex or a known AddressFamily")
        ip = _address(opt_str(row, "IPAddress"))
        address = Address(address=str(ip), prefix=opt_int(row, "PrefixLength"), family=family)
        by_index.setdefault(index, []).append(address)
        aliases[index] = opt_str(row, "Alias") or str(index)
    return by_index, aliases


def _ip_state(doc: Any) -> tuple[dict[int, bool], dict[tuple[int, int], int]]:
    """ifIndex -> connected, and (ifIndex, family) -> interface metric, from Get-NetIPInterface."""
    connected: dict[int, bool] = {}
    metrics: dict[tuple[int, int], int] = {}
    for item in list_field(obj(part(doc, "ip"), "ip"), "Interfaces"):
        row = obj(item, "ip interface")
        index, family = opt_int(row, "ifIndex"), opt_int(row, "AddressFamily")
        if index is None or family is None:
            raise ParseError("ip interface without ifIndex or AddressFamily")
        connected[index] = connected.get(index, False) or opt_int(row, "ConnectionState") == 1
        metrics[(index, family)] = opt_int(row, "InterfaceMetric") or 0
    return connected, metrics


def _connected_ras(doc: Any) -> list[dict[str, Any]]:
    connections = list_field(obj(part(doc, "vpn"), "vpn"), "Connections")
    rows = [obj(item, "VPN connection") for item in connections]
    return [r for r in rows if (opt_str(r, "ConnectionStatus") or "").lower() == "connected"]


def parse_interfaces(text: str) -> list[Interface]:
    """Adapters joined with their addresses, plus address-only interfaces (loopback, RAS).

    Sample (constructed): {"adapters":{"ok":true,"value":{"Adapters":[{"ifIndex":12,"Name":"WLAN",
    "Description":"Intel(R) Wi-Fi 6 AX201 160MHz","MacAddress":"A4-B1-C1-12-34-56","Status":"Up",
    "NdisPhysicalMedium":9}]}},"ip":{"ok":true,"value":{"Addresses":[{"ifIndex":12,"Alias":"WLAN",
    "IPAddress":"192.168.1.23","PrefixLength":24,"AddressFamily":2}],"Interfaces":[]}}}
    """
    doc = network_doc(text)
    adapters = read_adapters(doc)
    addresses, aliases = _addresses(doc)
    state = attempt({}, "ip", lambda: _ip_state(doc))
    ras_names = {opt_str(r, "Name") for r in attempt({}, "vpn", lambda: _connected_ras(doc)) or []}
    interfaces = [
        Interface(
            name=a.name, kind=a.kind, is_up=a.up, mac=a.mac, addresses=addresses.get(a.index, [])
        )
        for a in adapters
    ]
    known = {a.index for a in adapters}
    for index, addrs in addresses.items():
        if index in known:
            continue
        ips = [_address(a.address) for a in addrs]
        kind: InterfaceKind
        if all(ip.is_loopback for ip in ips):
            kind = "loopback"
        elif aliases[index] in ras_names:
            kind = "vpn"
        elif any(not ip.is_link_local for ip in ips):
            kind = "other"
        else:
            continue  # hidden miniports with only link-local addresses are noise
        is_up = True if kind == "loopback" else (state[0].get(index) if state else None)
        interfaces.append(
            Interface(name=aliases[index], kind=kind, is_up=is_up, mac=None, addresses=addrs)
        )
    return interfaces


def parse_gateways(text: str) -> list[Gateway]:
    """Default routes (0.0.0.0/0, ::/0), preferred first (route metric + interface metric).

    Sample (constructed, reference B.2): {"routes":{"ok":true,"value":{"Routes":[{"ifIndex":12,
    "Alias":"Wi-Fi","NextHop":"192.168.1.1","RouteMetric":0,"AddressFamily":2}]}}}
    """
    doc = network_doc(text)
    state = attempt({}, "ip", lambda: _ip_state(doc))
    metrics = state[1] if state else {}
    ranked: list[tuple[int, Gateway]] = []
    for item in list_field(obj(part(doc, "routes"), "routes"), "Routes"):
        row = obj(item, "route")
        family_id = opt_int(row, "AddressFamily") or 0
        family, hop = _FAMILIES.get(family_id), opt_str(row, "NextHop")
        if family is None:
            raise ParseError(f"route with unknown AddressFamily {family_id}")
        if hop is None or _address(hop).is_unspecified:
            continue  # on-link default (point-to-point VPN): no gateway address
        index = opt_int(row, "ifIndex") or 0
        metric = (opt_int(row, "RouteMetric") or 0) + metrics.get((index, family_id), 0)
        gateway = Gateway(
            address=str(_address(hop)), interface=opt_str(row, "Alias"), family=family
        )
        if all(gateway != seen for _, seen in ranked):
            ranked.append((metric, gateway))
    return [gateway for _, gateway in sorted(ranked, key=lambda pair: pair[0])]


def _dns_state(doc: Any) -> tuple[dict[int, bool] | None, dict[int, int]]:
    state = attempt({}, "ip", lambda: _ip_state(doc))
    if state is None:
        return None, {}
    best: dict[int, int] = {}
    for (index, _), metric in state[1].items():
        best[index] = min(metric, best.get(index, metric))
    return state[0], best


def parse_dns_servers(text: str) -> list[str]:
    """DNS servers of connected interfaces, preferred interface first, without duplicates.

    Sample (constructed, reference B.3): {"dns":{"ok":true,"value":{"Servers":[{"ifIndex":21,
    "AddressFamily":2,"ServerAddresses":["10.10.0.53","10.10.0.54"]}],"Suffixes":[],
    "SearchList":["corp.example.com"],"PrimarySuffix":""}}}
    """
    doc = network_doc(text)
    dns = obj(part(doc, "dns"), "dns")
    connected, metric = _dns_state(doc)
    rows = [obj(item, "DNS server entry") for item in list_field(dns, "Servers")]
    rows.sort(key=lambda row: metric.get(opt_int(row, "ifIndex") or 0, 0))
    servers: list[str] = []
    for row in rows:
        if connected is not None and not connected.get(opt_int(row, "ifIndex") or 0, False):
            continue
        for value in list_field(row, "ServerAddresses"):
            server = str(_address(value if isinstance(value, str) else None))
            if server not in _DNS_PLACEHOLDERS and server not in servers:
                servers.append(server)
    return servers


def parse_dns_search_domains(text: str) -> list[str]:
    """Global suffix search list, primary DNS suffix, then connected interfaces' suffixes.

    Sample (constructed, reference B.3): {"dns":{"ok":true,"value":{"Servers":[],"Suffixes":
    [{"ifIndex":21,"Suffix":"corp.example.com"}],"SearchList":[],"PrimarySuffix":"corp.example.com"}}}
    """
    doc = network_doc(text)
    dns = obj(part(doc, "dns"), "dns")
    connected, _ = _dns_state(doc)
    names: list[Any] = [*list_field(dns, "SearchList"), dns.get("PrimarySuffix")]
    for item in list_field(dns, "Suffixes"):
        row = obj(item, "DNS suffix entry")
        if connected is None or connected.get(opt_int(row, "ifIndex") or 0, False):
            names.append(row.get("Suffix"))
    domains: list[str] = []
    for name in names:
        if name is not None and not isinstance(name, str):
            raise ParseError(f"DNS suffix is not text: {name!r}"[:80])
        domain = (name or "").strip().strip(".").lower()
        if domain and domain not in domains:
            domains.append(domain)
    return domains


_RAS_KINDS = {"ikev2": "ikev2", "l2tp": "l2tp", "pptp": "pptp", "sstp": "sstp"}


def parse_vpn_connections(text: str) -> list[VpnConnection]:
    """Connected built-in (RAS) VPNs and VPN client adapters that are up.

    Sample (constructed, reference B.6): {"vpn":{"ok":true,"value":{"Connections":[{"Name":
    "Corp IKEv2","ServerAddress":"vpn.corp.example.com","ConnectionStatus":"Connected",
    "TunnelType":"Ikev2"}]}}} plus a PANGP adapter with Status "Up" in the 'adapters' part.
    """
    doc = network_doc(text)
    addresses, aliases = _addresses(doc)
    by_alias = {alias: addresses.get(index, []) for index, alias in aliases.items()}

    def usable(addrs: list[Address]) -> list[str]:
        return [a.address for a in addrs if not _address(a.address).is_link_local]

    vpns: list[VpnConnection] = []
    for row in _connected_ras(doc):
        name = opt_str(row, "Name") or "(unnamed)"
        vpns.append(
            VpnConnection(
                name=name,
                kind=_RAS_KINDS.get((opt_str(row, "TunnelType") or "").lower(), "ras"),
                remote=opt_str(row, "ServerAddress"),
                addresses=usable(by_alias.get(name, [])),
            )
        )
    seen = {v.name for v in vpns}
    for adapter in read_adapters(doc):
        if adapter.kind == "vpn" and adapter.up and adapter.name not in seen:
            vpns.append(
                VpnConnection(
                    name=adapter.name,
                    kind=vpn_kind(adapter.description) or "tunnel",
                    remote=None,
                    addresses=usable(addresses.get(adapter.index, [])),
                )
            )
    return vpns


def parse_network_shares(text: str) -> list[NetworkShare]:
    """Mapped SMB drives of the agent's user (Get-SmbMapping); 'Unavailable' = remembered only.

    Sample (constructed, reference B.8): {"shares":{"ok":true,"value":{"Mappings":[{"LocalPath":
    "H:","RemotePath":"\\\\fs01.corp.example.com\\home$\\alice","Status":"OK"}]}}}
    """
    doc = network_doc(text)
    system = attempt({}, "system", lambda: opt_bool(obj(part(doc, "system"), "system"), "IsSystem"))
    if system is True:
        raise FactUnavailable(
            "the agent runs as LocalSystem: mapped drives belong to user sessions"
        )
    shares = []
    for item in list_field(obj(part(doc, "shares"), "shares"), "Mappings"):
        row = obj(item, "mapping")
        remote = opt_str(row, "RemotePath")
        if remote is None:
            raise ParseError("SMB mapping without RemotePath")
        if (opt_str(row, "Status") or "").lower() == "unavailable":
            continue
        match = _UNC.match(remote)
        webdav = bool(match and match["ssl"]) or "davwwwroot" in remote.lower()
        shares.append(
            NetworkShare(
                source=remote,
                mountpoint=opt_str(row, "LocalPath") or remote,
                fstype="webdav" if webdav else "smb",
                host=match["host"].lower() if match else None,
            )
        )
    return shares


def parse_wifi_ssids(text: str) -> list[str]:
    """SSIDs of connected Wi-Fi adapters: netsh first, else the network profile names.

    Windows 11 24H2+ hides SSIDs from netsh without location permission; the network profile
    (Get-NetConnectionProfile) normally carries the SSID as its name. Sample: see the parts
    'adapters', 'wlan' ({"ExitCode":0,"Text":"...SSID : CorpWiFi..."}) and 'profiles'
    ({"Profiles":[{"ifIndex":12,"Name":"CorpWiFi","NetworkCategory":2}]}).
    """
    doc = network_doc(text)
    wifi = {a.index for a in read_adapters(doc) if a.kind == "wifi" and a.up}
    if not wifi:
        return []
    why: dict[str, str] = {}
    ssids = attempt(
        why, "netsh", lambda: parse_netsh_ssids(netsh_output(obj(part(doc, "wlan"), "wlan")))
    )
    if ssids:
        return ssids
    profiles = attempt(why, "profiles", lambda: _profile_names(doc, wifi))
    if profiles:
        return profiles
    reasons = "; ".join(why.values()) or "netsh wlan showed no SSID (location permission?)"
    raise FactUnavailable(f"connected to Wi-Fi but the SSID is not readable: {reasons}")


def _profile_names(doc: Any, wifi: set[int]) -> list[str] | None:
    rows = [
        obj(i, "profile") for i in list_field(obj(part(doc, "profiles"), "profiles"), "Profiles")
    ]
    names = {opt_int(r, "ifIndex"): opt_str(r, "Name") for r in rows}
    if not all(names.get(index) for index in wifi):
        return None  # a Wi-Fi adapter without a named profile yet ("Identifying...")
    return list(dict.fromkeys(str(names[index]) for index in sorted(wifi)))


def parse_saved_wifi_profiles(text: str) -> list[str]:
    """Saved Wi-Fi profiles from netsh (the 'wlan_profiles' part).

    Sample: {"wlan_profiles":{"ok":true,"value":{"ExitCode":0,"Text":"Profiles on interface Wi-Fi:
    ..."}}}; no Wi-Fi adapter at all and a failing netsh (no WLAN service) give [].
    """
    doc = network_doc(text)
    why: dict[str, str] = {}
    output = attempt(
        why, "netsh", lambda: netsh_output(obj(part(doc, "wlan_profiles"), "wlan_profiles"))
    )
    if output is None:
        adapters = attempt(why, "adapters", lambda: read_adapters(doc))
        if adapters is not None and not any(a.kind == "wifi" for a in adapters):
            return []
        raise FactUnavailable(why["netsh"])
    return parse_netsh_profiles(output)
