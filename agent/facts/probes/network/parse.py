"""Network parsers every OS shares: psutil/netifaces answers into the model, share hosts."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from agent.facts.context import Mount, NetAddress, NetStats, ParseError
from agent.facts.probes.network.model import (
    Address,
    Gateway,
    Interface,
    InterfaceKind,
    NetworkShare,
)

NETWORK_FSTYPES = {
    "cifs",
    "smb3",
    "smbfs",
    "nfs",
    "nfs4",
    "afpfs",
    "webdav",
    "davfs",
    "fuse.sshfs",
    "9p",
}


def prefix_length(netmask: str | None) -> int | None:
    """'255.255.255.0' -> 24, 'ffff:ffff:ffff:ffff::' -> 64; None when absent or malformed."""
    if not netmask:
        return None
    try:
        if ":" in netmask:
            return bin(int(ipaddress.IPv6Address(netmask))).count("1")
        return ipaddress.IPv4Network(f"0.0.0.0/{netmask}").prefixlen
    except ValueError:
        return None  # a netmask psutil could not render; the address itself still counts


def build_interface(
    name: str, kind: InterfaceKind, addrs: list[NetAddress], stats: NetStats | None
) -> Interface:
    """One Interface from psutil's addresses and link stats."""
    addresses = [
        Address(
            address=a.address.split("%", 1)[0],  # fe80::1%eth0 -> fe80::1
            prefix=prefix_length(a.netmask),
            family=a.family,
        )
        for a in addrs
        if a.family in ("inet", "inet6")
    ]
    macs = [a.address for a in addrs if a.family == "link" and a.address]
    return Interface(
        name=name,
        kind=kind,
        is_up=stats.is_up if stats else None,
        mac=macs[0] if macs else None,
        addresses=addresses,
    )


def default_gateways(raw: dict[str, Any]) -> list[Gateway]:
    """Default routes from netifaces.gateways() (families named by Context.gateways()).

    Sample: {"inet": [["192.0.2.1", "eth0", true]], "inet6": [["fd00::1", "eth0", true]]}
    """
    gateways = []
    for family in ("inet", "inet6"):
        for entry in raw.get(family, []):
            if not isinstance(entry, list | tuple) or len(entry) < 2:
                raise ParseError(f"unexpected gateway entry {entry!r}")
            is_default = bool(entry[2]) if len(entry) > 2 else True
            if is_default:
                gateways.append(
                    Gateway(address=str(entry[0]), interface=str(entry[1]), family=family)
                )
    return gateways


_UNC = re.compile(r"^(?:\\\\|//)(?:[^@/\\]+@)?(?P<host>[^/\\]+)")
_NFS = re.compile(r"^(?P<host>\[[^\]]+\]|[^:/\s]+):/")
_URL = re.compile(r"^[a-z][a-z0-9+.-]*://(?:[^@/]+@)?(?P<host>[^/:]+)", re.I)


def share_host(source: str) -> str | None:
    """The server of a mounted share.

    Samples: //alice@fs01.example.org/projects, \\\\fs01\\home$, nas01.example.org:/export,
    https://dav.example.org/remote.php, sshfs's alice@host:/path.
    """
    for pattern in (_UNC, _URL):
        match = pattern.match(source)
        if match:
            return match["host"].lower()
    match = _NFS.match(source.split("@", 1)[-1])
    return match["host"].strip("[]").lower() if match else None


def shares_from_mounts(mounts: list[Mount]) -> list[NetworkShare]:
    return [
        NetworkShare(
            source=m.device,
            mountpoint=m.mountpoint,
            fstype=m.fstype,
            host=share_host(m.device),
        )
        for m in mounts
        if m.fstype in NETWORK_FSTYPES or m.opts.split(",")[-1] == "remote"
    ]


_GVFS_SCHEMES = {"smb-share", "nfs", "dav", "davs", "sftp", "ftp", "afp-volume", "afp"}


def shares_from_gvfs(folder: str, names: list[str]) -> list[NetworkShare]:
    """GNOME gvfs mounts: folders like `smb-share:server=fs01.example.org,share=projects` or
    `sftp:host=build.example.org,user=alice` (smb names its server `server=`, the rest `host=`).
    """
    shares = []
    for name in names:
        scheme, _, params = name.partition(":")
        fields = dict(p.split("=", 1) for p in params.split(",") if "=" in p)
        host = fields.get("server") or fields.get("host")
        if host and scheme in _GVFS_SCHEMES:
            shares.append(
                NetworkShare(
                    source=name,
                    mountpoint=f"{folder}/{name}",
                    fstype=f"gvfs.{scheme}",
                    host=host.lower(),
                )
            )
    return shares
