"""network on Linux: psutil/netifaces for addresses and routes, iproute2, resolv.conf, nmcli."""

from __future__ import annotations

import json
import re

from agent.facts.context import Context, FactUnavailable, ParseError
from agent.facts.probes.base import attempt
from agent.facts.probes.network import common
from agent.facts.probes.network.model import (
    Interface,
    InterfaceKind,
    NetworkData,
    NetworkShare,
    VpnConnection,
)
from agent.report import Gaps

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


def _nmcli(ctx: Context, *args: str) -> str:
    """nmcli's output, or FactUnavailable when it fails (e.g. NetworkManager not running)."""
    done = ctx.run(["nmcli", *args], timeout=10)
    if done.returncode != 0:
        raise FactUnavailable(f"nmcli failed ({done.returncode}): {done.stderr.strip()[:200]}")
    return done.stdout


def _interfaces(ctx: Context, gaps: Gaps) -> list[Interface]:
    kinds = attempt(gaps, "interfaces.kind", lambda: _link_kinds(ctx)) or {}
    addrs = ctx.net_if_addrs()
    stats = ctx.net_if_stats()
    interfaces = []
    for name in sorted(set(addrs) | set(stats)):
        link_type, info_kind = kinds.get(name, ("", None))
        wireless = ctx.exists(f"/sys/class/net/{name}/wireless")
        interfaces.append(
            common.build_interface(
                name,
                classify(name, link_type, info_kind, wireless),
                addrs.get(name, []),
                stats.get(name),
            )
        )
    return interfaces


def _link_kinds(ctx: Context) -> dict[str, tuple[str, str | None]]:
    done = ctx.run(["ip", "-j", "-d", "link", "show"], timeout=5)
    if done.returncode != 0:
        raise FactUnavailable(f"ip link failed: {done.stderr.strip()[:200]}")
    return parse_ip_link(done.stdout)


def _dns(ctx: Context) -> tuple[list[str], list[str]]:
    servers, domains = parse_resolv_conf(ctx.read_text("/etc/resolv.conf"))
    if servers == ["127.0.0.53"]:
        # systemd-resolved's stub: the real upstream servers are in its own resolv.conf.
        upstream, more = parse_resolv_conf(ctx.read_text("/run/systemd/resolve/resolv.conf"))
        servers, domains = upstream, list(dict.fromkeys(domains + more))
    return servers, domains


def _wifi_ssids(ctx: Context, interfaces: list[Interface]) -> list[str]:
    if not any(i.kind == "wifi" for i in interfaces):
        return []
    if ctx.which("nmcli"):
        args = ("-t", "-f", "active,ssid", "dev", "wifi", "list", "--rescan", "no")
        return parse_nmcli_active_ssids(_nmcli(ctx, *args))
    if ctx.which("iw"):
        return parse_iw_dev_ssids(ctx.run(["iw", "dev"], timeout=5).stdout)
    raise FactUnavailable("a Wi-Fi interface exists but neither nmcli nor iw is installed")


def _saved_wifi(ctx: Context) -> list[str]:
    names: list[str] = []
    if ctx.which("nmcli"):
        rows = parse_nmcli_connections(
            _nmcli(ctx, "-t", "-f", "NAME,TYPE,DEVICE", "connection", "show")
        )
        names += [name for name, kind, _ in rows if kind == "802-11-wireless"]
    elif ctx.exists("/etc/NetworkManager/system-connections"):
        listing = ctx.listdir("/etc/NetworkManager/system-connections")
        names += [n.removesuffix(".nmconnection") for n in listing]
    if ctx.exists("/var/lib/iwd"):
        names += [n.rsplit(".", 1)[0] for n in ctx.listdir("/var/lib/iwd") if "." in n]
    return sorted(set(names))


def _vpns(ctx: Context, interfaces: list[Interface]) -> list[VpnConnection]:
    """Tunnels that are up with an address; NetworkManager names them and tells the server."""
    tunnels = {i.name: i for i in interfaces if i.kind == "vpn" and i.is_up and i.addresses}
    vpns: list[VpnConnection] = []
    if ctx.which("nmcli"):
        args = ("-t", "-f", "NAME,TYPE,DEVICE", "connection", "show", "--active")
        for name, kind, device in parse_nmcli_connections(_nmcli(ctx, *args)):
            if kind == "wireguard":
                tunnel, remote = tunnels.pop(device, None), None
            elif kind == "vpn":
                # DEVICE is the link the VPN runs over (wlp2s0), not its tunnel: the tunnel is
                # the one tunnel interface nobody else claims, when there is exactly one.
                remote = parse_vpn_gateway(
                    _nmcli(ctx, "-g", "vpn.data", "connection", "show", name)
                )
                tunnel = tunnels.pop(next(iter(tunnels))) if len(tunnels) == 1 else None
            else:
                continue
            addresses = [a.address for a in tunnel.addresses] if tunnel else []
            vpns.append(VpnConnection(name=name, kind=kind, remote=remote, addresses=addresses))
    vpns += [
        VpnConnection(
            name=t.name, kind="tunnel", remote=None, addresses=[a.address for a in t.addresses]
        )
        for t in tunnels.values()
    ]
    return vpns


def _shares(ctx: Context) -> list[NetworkShare]:
    shares = common.shares_from_mounts(ctx.mounts())
    # GNOME (gvfs) SMB mounts are not kernel mounts: they are folders under /run/user/<uid>/gvfs.
    if ctx.exists("/run/user"):
        for uid in ctx.listdir("/run/user"):
            gvfs = f"/run/user/{uid}/gvfs"
            if ctx.exists(gvfs):
                shares += common.shares_from_gvfs(gvfs, ctx.listdir(gvfs))
    return shares


def collect(ctx: Context) -> NetworkData:
    gaps: Gaps = {}
    interfaces = attempt(gaps, "interfaces", lambda: _interfaces(ctx, gaps))
    dns = attempt(gaps, "dns_servers", lambda: _dns(ctx))
    if dns is None:
        gaps["dns_search_domains"] = gaps["dns_servers"]
    known = interfaces or []
    return NetworkData(
        interfaces=interfaces,
        gateways=attempt(gaps, "gateways", lambda: common.default_gateways(ctx.gateways())),
        dns_servers=dns[0] if dns else None,
        dns_search_domains=dns[1] if dns else None,
        wifi_ssids=attempt(gaps, "wifi_ssids", lambda: _wifi_ssids(ctx, known)),
        saved_wifi_profiles=attempt(gaps, "saved_wifi_profiles", lambda: _saved_wifi(ctx)),
        vpn_connections=attempt(gaps, "vpn_connections", lambda: _vpns(ctx, known)),
        network_shares=attempt(gaps, "network_shares", lambda: _shares(ctx)),
        gaps=gaps,
    )
