"""macOS network command parsers: route, scutil --dns, scutil --nc list, mount."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from agent.facts.context import ParseError
from agent.facts.probes.network import common
from agent.facts.probes.network.model import NetworkShare

_REVERSE_ZONE = re.compile(r"(^|\.)(in-addr|ip6)\.arpa$", re.IGNORECASE)
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
        # Reverse-lookup zones (10.in-addr.arpa) are routing hints, not search domains.
        domains += [d.rstrip(".") for d in names if d and not _REVERSE_ZONE.search(d.rstrip("."))]
    return list(dict.fromkeys(servers)), list(dict.fromkeys(domains))


_NC_LINE = re.compile(
    r'^\s*\*?\s*\((?P<state>[^)]*)\)\s+[0-9A-Fa-f-]{36}\s+(?P<type>.*?)\s*"(?P<name>[^"]*)"'
    r"\s*(?:\[(?P<sub>[^\]]*)\])?\s*$"
)


def parse_scutil_nc_list(text: str) -> list[NcService]:
    """Network connection (VPN) services from `scutil --nc list`.

    Available network connection services in the current set (*=enabled):
    * (Connected)    4F1D2C3B-1234-4ABC-9DEF-0123456789AB VPN (com.example.vpn) "Corp" [VPN/...]
    * (Disconnected) A1B2C3D4-5E6F-4A7B-8C9D-0E1F2A3B4C5D IPSec   "Corp IPSec"   [IPSec]
    (constructed after reference B.6, the format public scripts grep for "(Connected)"; the
    real columns are wider. The kind comes from the type and [subtype]: vendor bundle id first.)
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
