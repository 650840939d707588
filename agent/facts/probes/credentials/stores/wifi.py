"""Saved Wi-Fi profiles of the organisation: netplan, wpa_supplicant, iwd, netsh, networksetup."""

from __future__ import annotations

from agent.facts.context import CommandNotFound, Context, FactUnavailable, ParseError
from agent.facts.probes.base import first_line
from agent.facts.probes.credentials.scan import ScanState
from agent.facts.probes.credentials.stores.storefiles import (
    Finder,
    files_in,
    join,
    list_folder,
    read_store_file,
    why,
)
from agent.facts.probes.credentials.stores.wifi_parse import (
    WifiProfile,
    iwd_ssid,
    parse_iwd,
    parse_netplan_wifis,
    parse_netsh_profile_ssids,
    parse_wpa_supplicant,
    wifi_matches,
)
from agent.facts.probes.network.darwin import port_kind
from agent.facts.probes.network.darwin_wifi import parse_hardware_ports, parse_preferred_networks
from agent.facts.probes.network.windows_wifi import parse_netsh_profiles
from agent.facts.probes.powershell_parse import parse_json


def report_profiles(
    scan: ScanState, store: str, location: str, profiles: list[WifiProfile]
) -> None:
    """Add a finding for every organisation SSID or 802.1X identity among `profiles`."""
    for profile in profiles:
        for kind, identity, matched in wifi_matches(profile, scan.org):
            scan.add(kind, store, location, identity, matched)


def find_wpa_supplicant(ctx: Context, scan: ScanState) -> None:
    """/etc/wpa_supplicant/*.conf and the eduroam CAT installer's per-user copy."""
    paths = files_in(ctx, scan, "wpa_supplicant", "/etc/wpa_supplicant", (".conf",))
    for home in scan.homes:
        paths.append(join("linux", home.path, ".config", "cat_installer", "cat_installer.conf"))
        paths.append(join("linux", home.path, ".cat_installer", "cat_installer.conf"))
    for path in paths:
        if scan.out_of_time():
            return
        text = read_store_file(ctx, scan, "wpa_supplicant", path)
        if text is not None:
            report_profiles(scan, "wpa_supplicant", path, parse_wpa_supplicant(text))


def find_netplan(ctx: Context, scan: ScanState) -> None:
    """/etc/netplan/*.yaml: Ubuntu 23.10+ keeps NetworkManager's Wi-Fi profiles here (0600)."""
    for path in files_in(ctx, scan, "netplan", "/etc/netplan", (".yaml", ".yml")):
        text = read_store_file(ctx, scan, "netplan", path)
        if text is not None:
            report_profiles(scan, "netplan", path, parse_netplan_wifis(text))


def find_iwd(ctx: Context, scan: ScanState) -> None:
    """/var/lib/iwd (root only): the SSID is the file name; only .8021x files are opened."""
    folder = "/var/lib/iwd"
    for entry in list_folder(ctx, scan, "iwd", folder) or []:
        if entry.kind != "file" or not entry.name.endswith((".8021x", ".psk", ".open")):
            continue
        path = join("linux", folder, entry.name)
        if entry.name.endswith(".8021x"):
            text = read_store_file(ctx, scan, "iwd", path)
            profile = parse_iwd(entry.name, text) if text is not None else None
        else:  # a .psk file holds the passphrase: the name says all we need
            profile = WifiProfile(iwd_ssid(entry.name), iwd_ssid(entry.name))
        if profile is not None:
            report_profiles(scan, "iwd", path, [profile])


def find_macos_wifi(ctx: Context, scan: ScanState) -> None:
    """Preferred (remembered) networks of every Wi-Fi device, from networksetup."""
    try:
        ports = parse_hardware_ports(_output(ctx, ["networksetup", "-listallhardwareports"]))
    except CommandNotFound:
        return
    except FactUnavailable as exc:
        scan.not_read("macos_wifi", "networksetup -listallhardwareports", why(exc))
        return
    for device in sorted(d for d, port in ports.items() if port_kind(port) == "wifi"):
        argv = ["networksetup", "-listpreferredwirelessnetworks", device]
        try:
            names = parse_preferred_networks(_output(ctx, argv))
        except FactUnavailable as exc:
            scan.not_read("macos_wifi", f"preferred networks of {device}", why(exc))
            continue
        location = f"preferred networks of {device}"
        report_profiles(scan, "macos_wifi", location, [WifiProfile(n, n) for n in names])


def _output(ctx: Context, argv: list[str]) -> str:
    result = ctx.run(argv, timeout=10.0)
    if result.returncode != 0:
        detail = first_line(result.stderr) or first_line(result.stdout) or "no output"
        raise FactUnavailable(f"{argv[0]} exited {result.returncode}: {detail}")
    return result.stdout


WLAN_LIST_SCRIPT = r"""
$text = (& netsh.exe wlan show profiles | Out-String)
ConvertTo-Json -Compress -InputObject @{ ExitCode = $LASTEXITCODE; Text = $text }
"""

# Filled with the profile names as a PowerShell array of single-quoted strings. Never key=clear.
WLAN_DETAILS_SCRIPT = r"""
$out = @(foreach ($n in @(%s)) {
  $text = (& netsh.exe wlan show profile name="$n" | Out-String)
  @{ Name = $n; ExitCode = $LASTEXITCODE; Text = $text }
})
ConvertTo-Json -Compress -Depth 3 -InputObject @{ Profiles = $out }
"""


def ps_quote(value: str) -> str:
    """A PowerShell single-quoted string literal: 'it''s'."""
    return "'" + value.replace("'", "''") + "'"


def parse_wlan_list(text: str) -> list[str] | None:
    """Profile names from the list script's JSON; None when the WLAN service is not running.

    Sample: {"ExitCode":0,"Text":"Profiles on interface Wi-Fi:\r\n...All User Profile : eduroam"}
    """
    doc = parse_json(text, "powershell wlan_profiles")
    if not isinstance(doc, dict) or not isinstance(doc.get("Text"), str):
        raise ParseError("powershell wlan_profiles: expected {ExitCode, Text}")
    output: str = doc["Text"]
    if doc.get("ExitCode") not in (0, None):
        if "wlansvc" in output.lower():
            return None  # no Wireless AutoConfig service: no Wi-Fi, no profiles in use
        raise FactUnavailable(f"netsh wlan show profiles failed: {first_line(output)}")
    if not output.strip() or "-" * 3 not in output:
        return []  # no wireless interface: netsh prints a one-line notice
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


def find_windows_wlan(ctx: Context, scan: ScanState) -> None:
    """Saved WLAN profiles via netsh (no administrator needed, never key=clear)."""
    try:
        result = ctx.powershell("wlan_profiles", WLAN_LIST_SCRIPT, timeout=20.0)
        names = parse_wlan_list(result.stdout)
    except CommandNotFound:
        return
    except FactUnavailable as exc:
        scan.not_read("windows_wlan", "netsh wlan show profiles", why(exc))
        return
    if not names:
        return
    script = WLAN_DETAILS_SCRIPT % ",".join(ps_quote(n) for n in names)
    try:
        details = parse_wlan_details(ctx.powershell("wlan_profile_details", script).stdout)
    except FactUnavailable:
        details = {}  # the names alone still tell most: a profile is named after its SSID
    for name in names:
        ssids = details.get(name) or [name]
        profiles = [WifiProfile(name, ssid) for ssid in dict.fromkeys([*ssids, name])]
        report_profiles(scan, "windows_wlan", f"WLAN profile {name}", profiles)


FINDERS: dict[str, tuple[Finder, ...]] = {
    "linux": (find_netplan, find_wpa_supplicant, find_iwd),
    "darwin": (find_macos_wifi,),
    "windows": (find_windows_wlan,),
}
