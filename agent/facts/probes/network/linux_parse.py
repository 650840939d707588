"""Linux network parsers: iproute2 JSON, resolv.conf, nmcli's terse output, iw, interface kinds."""

from __future__ import annotations

import json
import re

from agent.facts.context import ParseError
from agent.facts.probes.network.model import InterfaceKind

_VPN_KINDS = {"tun", "tap", "wireguard", "ppp", "ipip", "gre", "xfrm", "vti", "ip6tnl", "sit"}
_VIRTUAL_KINDS = {"veth", "bridge", "dummy", "ifb", "macvlan", "vxlan", "bond", "vlan", "ipvlan"}
_VPN_NAMES = re.compile(r"^(tun|tap|wg|ppp|cscotun|gpd|utun|tailscale|nordlynx|zt)\d*", re.I)
_WIFI_NAMES = re.compile(r"^(wl|wlan|wifi)", re.I)
_CELLULAR_NAMES = re.compile(r"^(wwan|rmnet|usb|cdc-wdm)", re.I)


def parse_ip_link(text: str) -> dict[str, tuple[str, str | None]]:
    """Interface name -> (link_type, linkinfo kind) from `ip -j -d link show`.

    Sample:
        [{"ifname":"tun9","link_type":"none","linkinfo":{"info_kind":"tun"}},
         {"ifname":"eth0","link_type":"ether"}]
    """
    try:
        links = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParseError(f"ip -j link did not print JSON: {exc}") from exc
    if not isinstance(links, list):
        raise ParseError("ip -j link JSON is not a list")
    kinds: dict[str, tuple[str, str | None]] = {}
    for link in links:
        if not isinstance(link, dict) or "ifname" not in link:
            raise ParseError("ip -j link entry without ifname")
        info = link.get("linkinfo") or {}
        if not isinstance(info, dict):
            raise ParseError(f"ip -j link: linkinfo of {link['ifname']} is not an object")
        kind = info.get("info_kind")
        kinds[str(link["ifname"])] = (
            str(link.get("link_type", "")),
            str(kind) if kind is not None else None,
        )
    return kinds


def classify(name: str, link_type: str, info_kind: str | None, wireless: bool) -> InterfaceKind:
    """Decide what an interface is from iproute2's kinds, sysfs and, last, its name."""
    if link_type == "loopback":
        return "loopback"
    if wireless or (not link_type and _WIFI_NAMES.match(name)):
        return "wifi"
    if info_kind in _VPN_KINDS or _VPN_NAMES.match(name):
        return "vpn"
    if info_kind in _VIRTUAL_KINDS:
        return "virtual"
    if _CELLULAR_NAMES.match(name) and link_type in {"none", ""}:
        return "cellular"
    if link_type == "ether":
        return "ethernet"
    return "other"


def parse_resolv_conf(text: str) -> tuple[list[str], list[str]]:
    """Name servers and search domains from resolv.conf.

    Sample:
        nameserver 10.255.255.53
        search corp.example.com lab.example.com
    """
    servers: list[str] = []
    domains: list[str] = []
    for line in text.splitlines():
        fields = line.split("#", 1)[0].split()
        if len(fields) >= 2 and fields[0] == "nameserver":
            servers.append(fields[1])
        elif fields and fields[0] in {"search", "domain"}:
            domains.extend(d.rstrip(".") for d in fields[1:])
    return servers, list(dict.fromkeys(domains))


def split_nmcli_terse(line: str) -> list[str]:
    r"""Split an `nmcli -t` line on ':'; nmcli escapes ':' as '\:' and '\' as '\\'.

    Sample: `yes:Cafe\:Guest` -> ["yes", "Cafe:Guest"]; `Corp\\:vpn:` -> ["Corp\\", "vpn", ""]
    """
    fields, current, escaped = [], [], False
    for char in line:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ":":
            fields.append("".join(current))
            current = []
        else:
            current.append(char)
    fields.append("".join(current))
    return fields


def parse_nmcli_active_ssids(text: str) -> list[str]:
    """SSIDs marked active in `nmcli -t -f active,ssid dev wifi list --rescan no`.

    Sample:
        yes:HomeNet
        no:Neighbor-5G
    """
    ssids = []
    for line in text.splitlines():
        fields = split_nmcli_terse(line)
        if len(fields) != 2:
            raise ParseError(f"unexpected nmcli wifi line: {line[:80]!r}")
        if fields[0] == "yes" and fields[1]:
            ssids.append(fields[1])
    return ssids


def parse_iw_dev_ssids(text: str) -> list[str]:
    """SSIDs from `iw dev` (one `ssid` line per connected interface).

    Sample:
        Interface wlp2s0
                ssid HomeNet
    """
    return [line.strip()[5:] for line in text.splitlines() if line.strip().startswith("ssid ")]


def parse_nmcli_connections(text: str) -> list[tuple[str, str, str]]:
    """(name, type, device) from `nmcli -t -f NAME,TYPE,DEVICE connection show [--active]`.

    Sample:
        HomeNet:802-11-wireless:wlp2s0
        Corp VPN:vpn:
    """
    rows = []
    for line in text.splitlines():
        if not line:
            continue
        fields = split_nmcli_terse(line)
        if len(fields) != 3:
            raise ParseError(f"unexpected nmcli connection line: {line[:80]!r}")
        rows.append((fields[0], fields[1], fields[2]))
    return rows


def parse_vpn_gateway(vpn_data: str) -> str | None:
    """The server from NetworkManager's `vpn.data`, without nmcli's escapes or a port.

    Sample: `gateway = vpn.example.org, protocol = anyconnect` or `remote = vpn.example.org\\:1194`
    """
    match = re.search(r"\b(?:gateway|remote)\s*=\s*([^,\s]+)", vpn_data)
    if match is None:
        return None
    server = match[1].replace("\\:", ":").replace("\\\\", "\\")
    return re.sub(r":\d+$", "", server) if server.count(":") == 1 else server
