"""Wi-Fi on macOS: hardware ports, the current SSID (often redacted) and preferred networks."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Literal

from agent.facts.context import ParseError

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
