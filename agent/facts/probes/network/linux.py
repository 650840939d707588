"""network on Linux: psutil/netifaces for addresses and routes, iproute2, resolv.conf, nmcli."""

from __future__ import annotations

from agent.facts.context import FactUnavailable
from agent.facts.probes.base import Reading, attempt, run_checked
from agent.facts.probes.network import parse
from agent.facts.probes.network.linux_parse import (
    classify,
    parse_ip_link,
    parse_iw_dev_ssids,
    parse_nmcli_active_ssids,
    parse_nmcli_connections,
    parse_resolv_conf,
    parse_vpn_gateway,
)
from agent.facts.probes.network.model import Gateway, Interface, NetworkShare, VpnConnection
from agent.facts.probes.network.readers import SavedWifi

SAVED_WIFI_LOCATION = "NetworkManager and iwd"


def read_interfaces(reading: Reading) -> list[Interface]:
    return reading.shared("interfaces", lambda: _interfaces(reading))


def read_gateways(reading: Reading) -> list[Gateway]:
    return parse.default_gateways(reading.ctx.gateways())


def read_dns_servers(reading: Reading) -> list[str]:
    return _dns(reading)[0]


def read_dns_search_domains(reading: Reading) -> list[str]:
    return _dns(reading)[1]


def read_wifi_ssids(reading: Reading) -> list[str]:
    ctx = reading.ctx
    if not any(i.kind == "wifi" for i in _known_interfaces(reading)):
        return []
    if ctx.which("nmcli"):
        args = ("-t", "-f", "active,ssid", "dev", "wifi", "list", "--rescan", "no")
        return parse_nmcli_active_ssids(_nmcli(reading, *args))
    if ctx.which("iw"):
        return parse_iw_dev_ssids(ctx.run(["iw", "dev"], timeout=5).stdout)
    raise FactUnavailable("a Wi-Fi interface exists but neither nmcli nor iw is installed")


def read_saved_wifi_profiles(reading: Reading) -> list[SavedWifi]:
    ctx = reading.ctx
    names: list[str] = []
    if ctx.which("nmcli"):
        listing = _nmcli(reading, "-t", "-f", "NAME,TYPE,DEVICE", "connection", "show")
        names += [
            name for name, kind, _ in parse_nmcli_connections(listing) if kind == "802-11-wireless"
        ]
    elif ctx.exists("/etc/NetworkManager/system-connections"):
        files = ctx.listdir("/etc/NetworkManager/system-connections")
        names += [n.removesuffix(".nmconnection") for n in files]
    if ctx.exists("/var/lib/iwd"):
        names += [n.rsplit(".", 1)[0] for n in ctx.listdir("/var/lib/iwd") if "." in n]
    return [SavedWifi(location=SAVED_WIFI_LOCATION, names=sorted(set(names)))]


def read_vpns(reading: Reading) -> list[VpnConnection]:
    """Tunnels that are up with an address; NetworkManager names them and tells the server."""
    known = _known_interfaces(reading)
    tunnels = {i.name: i for i in known if i.kind == "vpn" and i.is_up and i.addresses}
    vpns: list[VpnConnection] = []
    if reading.ctx.which("nmcli"):
        args = ("-t", "-f", "NAME,TYPE,DEVICE", "connection", "show", "--active")
        for name, kind, device in parse_nmcli_connections(_nmcli(reading, *args)):
            if kind == "wireguard":
                tunnel, remote = tunnels.pop(device, None), None
            elif kind == "vpn":
                # DEVICE is the link the VPN runs over (wlp2s0), not its tunnel: the tunnel is
                # the one tunnel interface nobody else claims, when there is exactly one.
                remote = parse_vpn_gateway(
                    _nmcli(reading, "-g", "vpn.data", "connection", "show", name)
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


def read_shares(reading: Reading) -> list[NetworkShare]:
    ctx = reading.ctx
    shares = parse.shares_from_mounts(ctx.mounts())
    # GNOME (gvfs) SMB mounts are not kernel mounts: they are folders under /run/user/<uid>/gvfs.
    if ctx.exists("/run/user"):
        for uid in ctx.listdir("/run/user"):
            gvfs = f"/run/user/{uid}/gvfs"
            if ctx.exists(gvfs):
                shares += parse.shares_from_gvfs(gvfs, ctx.listdir(gvfs))
    return shares


def _nmcli(reading: Reading, *args: str) -> str:
    """nmcli's output; it fails when NetworkManager is not running."""
    return run_checked(reading.ctx, ["nmcli", *args], timeout=10)


def _interfaces(reading: Reading) -> list[Interface]:
    ctx = reading.ctx
    argv = ["ip", "-j", "-d", "link", "show"]
    kinds = attempt(
        reading.gaps, "interfaces.kind", lambda: parse_ip_link(run_checked(ctx, argv, timeout=5))
    )
    addrs = ctx.net_if_addrs()
    stats = ctx.net_if_stats()
    interfaces = []
    for name in sorted(set(addrs) | set(stats)):
        link_type, info_kind = (kinds or {}).get(name, ("", None))
        wireless = ctx.exists(f"/sys/class/net/{name}/wireless")
        interfaces.append(
            parse.build_interface(
                name,
                classify(name, link_type, info_kind, wireless),
                addrs.get(name, []),
                stats.get(name),
            )
        )
    return interfaces


def _known_interfaces(reading: Reading) -> list[Interface]:
    """The interfaces, or none when they could not be read (their own gap says why)."""
    try:
        return read_interfaces(reading)
    except FactUnavailable:
        return []


def _dns(reading: Reading) -> tuple[list[str], list[str]]:
    def read() -> tuple[list[str], list[str]]:
        servers, domains = parse_resolv_conf(reading.ctx.read_text("/etc/resolv.conf"))
        if servers == ["127.0.0.53"]:
            # systemd-resolved's stub: the real upstream servers are in its own resolv.conf.
            stub = reading.ctx.read_text("/run/systemd/resolve/resolv.conf")
            upstream, more = parse_resolv_conf(stub)
            servers, domains = upstream, list(dict.fromkeys(domains + more))
        return servers, domains

    return reading.shared("resolv.conf", read)
