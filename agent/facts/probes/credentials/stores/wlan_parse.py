"""Pure parsers for Windows' saved WLAN profiles: the netsh scripts' JSON and profile details."""

from __future__ import annotations

from agent.facts.context import ParseError
from agent.facts.probes.network.windows_netsh_parse import (
    NetshFailed,
    netsh_output,
    parse_netsh_profile_ssids,
    parse_netsh_profiles,
)
from agent.facts.probes.powershell_parse import parse_json


def parse_wlan_list(text: str) -> list[str] | None:
    """Profile names from the list script's JSON; None when the WLAN service is not running.

    Sample: {"ExitCode":0,"Text":"Profiles on interface Wi-Fi:\r\n...All User Profile : eduroam"}
    """
    doc = parse_json(text, "powershell wlan_profiles")
    if not isinstance(doc, dict) or not isinstance(doc.get("Text"), str):
        raise ParseError("powershell wlan_profiles: expected {ExitCode, Text}")
    try:
        output = netsh_output(doc)
    except NetshFailed as exc:
        if "wlansvc" in exc.output.lower():
            return None  # no Wireless AutoConfig service: no Wi-Fi, no profiles in use
        raise
    notice = [line for line in output.splitlines() if line.strip()]
    if len(notice) <= 1:
        return []  # no wireless interface: netsh prints a one-line notice (or nothing)
    return parse_netsh_profiles(output)


def parse_wlan_details(text: str) -> dict[str, list[str]]:
    """Profile name -> SSIDs from the details script's JSON (profiles netsh could not show: none).

    Sample: {"Profiles":[{"Name":"eduroam","ExitCode":0,"Text":"... SSID name : \"eduroam\""}]}
    """
    doc = parse_json(text, "powershell wlan_profile_details")
    rows = doc.get("Profiles") if isinstance(doc, dict) else None
    if isinstance(rows, dict):
        rows = [rows]  # PowerShell 5 collapses a one-element array
    if not isinstance(rows, list):
        raise ParseError("powershell wlan_profile_details: expected {Profiles: [...]}")
    details: dict[str, list[str]] = {}
    for row in rows:
        if isinstance(row, dict) and isinstance(row.get("Name"), str) and row.get("ExitCode") == 0:
            details[row["Name"]] = parse_netsh_profile_ssids(str(row.get("Text", "")))
    return details
