"""Saved Wi-Fi profiles of the organisation: netplan, wpa_supplicant, iwd, netsh, networksetup."""

from __future__ import annotations

from agent.facts.context import CommandNotFound, Context, FactUnavailable
from agent.facts.probes.base import Reading
from agent.facts.probes.credentials.per_os import PerOs, join
from agent.facts.probes.credentials.scan import ScanState
from agent.facts.probes.credentials.stores.storefiles import (
    Finder,
    files_in,
    list_folder,
    read_store_file,
    why,
)
from agent.facts.probes.credentials.stores.wifi_parse import (
    WifiProfile,
    iwd_ssid,
    parse_iwd,
    parse_netplan_wifis,
    parse_wpa_supplicant,
    wifi_matches,
)
from agent.facts.probes.credentials.stores.wlan_parse import parse_wlan_details, parse_wlan_list
from agent.facts.probes.network import darwin as network_darwin
from agent.facts.probes.network.windows import SAVED_WIFI_PS
from agent.facts.probes.powershell import ps_text


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
        paths.append(join(ctx, home.path, ".config", "cat_installer", "cat_installer.conf"))
        paths.append(join(ctx, home.path, ".cat_installer", "cat_installer.conf"))
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
        path = join(ctx, folder, entry.name)
        if entry.name.endswith(".8021x"):
            text = read_store_file(ctx, scan, "iwd", path)
            profile = parse_iwd(entry.name, text) if text is not None else None
        else:  # a .psk file holds the passphrase: the name says all we need
            profile = WifiProfile(iwd_ssid(entry.name), iwd_ssid(entry.name))
        if profile is not None:
            report_profiles(scan, "iwd", path, [profile])


def find_macos_wifi(ctx: Context, scan: ScanState) -> None:
    """Preferred (remembered) networks of every Wi-Fi device, read as the network probe reads
    them."""
    try:
        places = network_darwin.read_saved_wifi_profiles(Reading(ctx))
    except FactUnavailable as exc:
        # The hardware ports could not be listed: the cause says why (no networksetup: no Mac).
        cause = exc.__cause__ if isinstance(exc.__cause__, FactUnavailable) else exc
        if not isinstance(cause, CommandNotFound):
            scan.not_read("macos_wifi", "networksetup -listallhardwareports", why(cause))
        return
    for place in places:
        if place.failure is not None:
            scan.not_read("macos_wifi", place.location, why(place.failure))
            continue
        profiles = [WifiProfile(n, n) for n in place.names]
        report_profiles(scan, "macos_wifi", place.location, profiles)


# The same netsh call as the network probe's 'wlan_profiles' part, on its own.
WLAN_LIST_SCRIPT = (
    "$result = & {" + SAVED_WIFI_PS + "}\nConvertTo-Json -Compress -InputObject $result\n"
)

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


def find_windows_wlan(ctx: Context, scan: ScanState) -> None:
    """Saved WLAN profiles via netsh (no administrator needed, never key=clear)."""
    try:
        names = parse_wlan_list(ps_text(ctx, "wlan_profiles", WLAN_LIST_SCRIPT, timeout=20.0))
    except CommandNotFound:
        return
    except FactUnavailable as exc:
        scan.not_read("windows_wlan", "netsh wlan show profiles", why(exc))
        return
    if not names:
        return
    script = WLAN_DETAILS_SCRIPT % ",".join(ps_quote(n) for n in names)
    try:
        details = parse_wlan_details(ps_text(ctx, "wlan_profile_details", script))
    except FactUnavailable:
        details = {}  # the names alone still tell most: a profile is named after its SSID
    for name in names:
        ssids = details.get(name) or [name]
        profiles = [WifiProfile(name, ssid) for ssid in dict.fromkeys([*ssids, name])]
        report_profiles(scan, "windows_wlan", f"WLAN profile {name}", profiles)


FINDERS: PerOs[tuple[Finder, ...]] = PerOs(
    linux=(find_netplan, find_wpa_supplicant, find_iwd),
    darwin=(find_macos_wifi,),
    windows=(find_windows_wlan,),
)
