"""macOS network parsers: hardware ports, route, scutil, mount; Wi-Fi state and saved networks."""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass
from typing import Any, Literal

from agent.facts.context import ParseError
from agent.facts.probes.network import parse
from agent.facts.probes.network.model import InterfaceKind, NetworkShare

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
        if match["fstype"] in parse.NETWORK_FSTYPES:
            source = _PASSWORD.sub(r"\1\2@", match["src"])
            shares.append(
                NetworkShare(
                    source=source,
                    mountpoint=match["mnt"],
                    fstype=match["fstype"],
                    host=parse.share_host(source),
                )
            )
    return shares


# What macOS prints instead of an SSID when the caller lacks Location Services permission
# (ipconfig/system_profiler) or when the old tools broke (networksetup on macOS 15).
_HIDDEN_SSIDS = {"<redacted>", "You are not associated with an AirPort network."}

REDACTED_HELP = (
    "macOS hides the SSID from this process (ipconfig getsummary and system_profiler print "
    "<redacted>): allow the agent in System Settings > Privacy & Security > Location Services, "
    "or run `sudo ipconfig setverbose 1` once"
)


@dataclass(frozen=True)
class WifiState:
    """What one Wi-Fi device is joined to; 'hidden' means macOS would not say."""

    state: Literal["connected", "disconnected", "hidden"]
    ssid: str | None


def _ssid_state(value: str | None) -> WifiState:
    if value is None or not value.strip() or value.strip() in _HIDDEN_SSIDS:
        return WifiState("hidden", None)
    return WifiState("connected", value.strip())


def parse_hardware_ports(text: str) -> dict[str, str]:
    """Device -> hardware port from `networksetup -listallhardwareports`.

    Hardware Port: Wi-Fi
    Device: en0
    Ethernet Address: a4:83:e7:12:34:56

    Hardware Port: Thunderbolt Bridge
    Device: bridge0
    Ethernet Address: N/A
    """
    ports: dict[str, str] = {}
    port: str | None = None
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if not sep:
            continue
        if key.strip() == "Hardware Port":
            port = value.strip()
        elif key.strip() == "Device" and port is not None and value.strip():
            ports[value.strip()] = port
            port = None
    if not ports:
        raise ParseError("networksetup listed no 'Hardware Port:' / 'Device:' pairs")
    return ports


def parse_ipconfig_summary(text: str) -> WifiState:
    """The SSID from `ipconfig getsummary en0` (top-level keys only; BSSID is another key).

    <dictionary> {
      InterfaceType : WiFi
      LinkStatusActive : TRUE
      NetworkID : 5D3C9A0E-1F2B-4C3D-8E9F-0A1B2C3D4E5F
      SSID : HomeNet        <- "<redacted>" from macOS 15.6 without Location Services
      Security : WPA2_PSK
    }
    """
    if not text.lstrip().startswith("<dictionary>"):
        raise ParseError("ipconfig getsummary did not print a <dictionary>")
    top: dict[str, str] = {}
    depth = 0
    for line in text.splitlines():
        stripped = line.strip()
        if stripped == "}":
            depth -= 1
            continue
        pair = re.match(r"^([^:]+?)\s+:\s*(.*)$", stripped)
        if depth == 1 and pair:
            top.setdefault(pair.group(1), pair.group(2).strip())
        if stripped.endswith("{"):
            depth += 1
    if top.get("InterfaceType", "WiFi") != "WiFi":
        raise ParseError(f"ipconfig getsummary describes a {top['InterfaceType']} interface")
    if "SSID" in top:
        return _ssid_state(top["SSID"])
    if top.get("LinkStatusActive") == "FALSE":
        return WifiState("disconnected", None)
    return WifiState("hidden", None)


def parse_system_profiler_airport(text: str, device: str) -> WifiState:
    """The SSID of `device` from `system_profiler SPAirPortDataType -json`.

    {"SPAirPortDataType":[{"spairport_airport_interfaces":[{"_name":"en0",
      "spairport_status_information":"spairport_status_connected",
      "spairport_current_network_information":{"_name":"HomeNet"}}]}]}
    (constructed after osquery's keys; "_name" is "<redacted>" without Location Services)
    """
    try:
        data: Any = json.loads(text)
        sections = data["SPAirPortDataType"]
        interfaces = [i for s in sections for i in s.get("spairport_airport_interfaces", [])]
    except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
        raise ParseError(f"system_profiler did not print SPAirPortDataType JSON: {exc}") from exc
    for interface in interfaces:
        if not isinstance(interface, dict) or interface.get("_name") != device:
            continue
        network = interface.get("spairport_current_network_information")
        status = str(interface.get("spairport_status_information", ""))
        if isinstance(network, dict):
            name = network.get("_name")
            return _ssid_state(name if isinstance(name, str) else None)
        if status and status != "spairport_status_connected":
            return WifiState("disconnected", None)
        return WifiState("hidden", None)
    raise ParseError(f"system_profiler does not list Wi-Fi interface {device}")


def parse_preferred_networks(text: str) -> list[str]:
    """Saved networks from `networksetup -listpreferredwirelessnetworks en0` (tab-indented).

    Preferred networks on en0:
        CorpWiFi
        HomeNet
    """
    lines = text.splitlines()
    header = next((i for i, line in enumerate(lines) if line.strip()), None)
    if header is None:
        raise ParseError("networksetup printed nothing for the preferred networks")
    if re.match(r"^No preferred (wireless )?networks", lines[header].strip()):
        return []
    if not lines[header].startswith("Preferred networks on"):
        raise ParseError(f"networksetup: {lines[header].strip()[:200]}")
    return [line.strip() for line in lines[header + 1 :] if line.strip()]


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


def wifi_devices(ports: dict[str, str]) -> list[str]:
    """The Wi-Fi devices among parse_hardware_ports' device -> port map, sorted: {"en0": "Wi-Fi",
    "en4": "Ethernet Adapter (en4)"} gives ["en0"]."""
    return sorted(device for device, port in ports.items() if port_kind(port) == "wifi")
