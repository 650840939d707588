"""The network probe's data: where this device is connected and through what."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from agent.report import Gaps, fact, gaps_field

InterfaceKind = Literal["ethernet", "wifi", "vpn", "loopback", "virtual", "cellular", "other"]


@dataclass(frozen=True, kw_only=True)
class Address:
    """One IP address on an interface."""

    address: str = fact("IP address (IPv6 without the %scope suffix).")
    prefix: int | None = fact("Prefix length.")
    family: Literal["inet", "inet6"] = fact("inet or inet6.")


@dataclass(frozen=True, kw_only=True)
class Interface:
    """One network interface."""

    name: str = fact("OS name of the interface.")
    kind: InterfaceKind = fact("ethernet, wifi, vpn, loopback, virtual, cellular or other.")
    is_up: bool | None = fact("Link is up.")
    mac: str | None = fact("Hardware address.")
    addresses: list[Address] = fact("IP addresses.")


@dataclass(frozen=True, kw_only=True)
class Gateway:
    """A default route."""

    address: str = fact("Gateway address.")
    interface: str | None = fact("Interface the route leaves by.")
    family: Literal["inet", "inet6"] = fact("inet or inet6.")


@dataclass(frozen=True, kw_only=True)
class VpnConnection:
    """An active VPN or tunnel."""

    name: str = fact("Interface or connection name.")
    kind: str = fact("tun, wireguard, ppp, ipsec, anyconnect, globalprotect, ...")
    remote: str | None = fact("Server the tunnel goes to, when the OS tells.")
    addresses: list[str] = fact("Addresses the tunnel gave this device.")


@dataclass(frozen=True, kw_only=True)
class NetworkShare:
    """A mounted network file system."""

    source: str = fact("What is mounted, e.g. //fs01.example.org/projects.")
    mountpoint: str = fact("Where it is mounted (or the drive letter).")
    fstype: str = fact("cifs, smbfs, nfs, nfs4, webdav, ...")
    host: str | None = fact("Server host name or address.")


@dataclass(frozen=True, kw_only=True)
class NetworkData:
    """Interfaces, routes, name servers, Wi-Fi, VPNs and network shares."""

    interfaces: list[Interface] | None = fact("Every interface with its addresses.")
    gateways: list[Gateway] | None = fact("Default gateways.")
    dns_servers: list[str] | None = fact("DNS servers in use.")
    dns_search_domains: list[str] | None = fact("DNS search domains and connection suffixes.")
    wifi_ssids: list[str] | None = fact("SSIDs connected now; null when hidden (macOS redaction).")
    saved_wifi_profiles: list[str] | None = fact("Saved Wi-Fi network names.")
    vpn_connections: list[VpnConnection] | None = fact("Active VPNs and tunnels.")
    network_shares: list[NetworkShare] | None = fact("Mounted SMB/NFS/CIFS/WebDAV shares.")
    gaps: Gaps = gaps_field()
