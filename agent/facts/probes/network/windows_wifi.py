"""Wi-Fi for the Windows network probe: netsh wlan text and network profile names."""

from __future__ import annotations

import re
from typing import Any

from agent.facts.context import FactUnavailable, ParseError
from agent.facts.probes.base import attempt, first_line
from agent.facts.probes.network.windows_parse import network_doc, read_adapters
from agent.facts.probes.powershell_parse import list_field, obj, opt_int, opt_str, part


def parse_netsh_ssids(text: str) -> list[str]:
    """SSIDs from `netsh wlan show interfaces`; the 'SSID' label is the same in every language.

    Sample (constructed, German UI, reference B.4):
        Name                   : WLAN
        Status                 : Verbunden
        SSID                   : CorpWiFi
        AP BSSID               : 7c:21:0e:aa:bb:cc
    """
    ssids: list[str] = []
    for line in text.splitlines():
        key, sep, value = line.partition(" : ")
        if sep and key.strip() == "SSID" and value.strip() and value.strip() not in ssids:
            ssids.append(value.strip())
    return ssids


def parse_netsh_profiles(text: str) -> list[str]:
    """Profile names from `netsh wlan show profiles`, in any display language.

    Labels are translated ("All User Profile" / "Profil für alle Benutzer"), so the name is what
    follows the first " : " of an indented line (labels never contain " : ", SSIDs may).
    Group policy profiles are indented lines without a label. Placeholders such as "<None>" are
    skipped. Sample (constructed, reference B.5):

        Profiles on interface Wi-Fi:

        Group policy profiles (read only)
        ---------------------------------
            CorpWiFi

        User profiles
        -------------
            All User Profile     : HomeNet
    """
    if not re.search(r"^-{3,}\s*$", text, re.M):
        raise ParseError(f"netsh wlan show profiles: no profile section in {text.strip()[:60]!r}")
    names: list[str] = []
    in_section = False
    for line in text.splitlines():
        if re.fullmatch(r"-{3,}\s*", line):
            in_section = True
        elif not line.strip() or not line.startswith((" ", "\t")):
            in_section = False  # a blank line or the next heading ends the section
        elif in_section:
            label, sep, value = line.partition(" : ")
            name = (value if sep else label).strip()
            if name and not re.fullmatch(r"<[^<>]*>", name) and name not in names:
                names.append(name)
    return names


def _netsh(doc: Any, key: str) -> str:
    result = obj(part(doc, key), key)
    output = opt_str(result, "Text") or ""
    if opt_int(result, "ExitCode") not in (0, None):
        raise FactUnavailable(f"netsh wlan failed: {first_line(output) or 'no output'}")
    return output


def parse_wifi_ssids(text: str) -> list[str]:
    """SSIDs of connected Wi-Fi adapters: netsh first, else the network profile names.

    Windows 11 24H2+ hides SSIDs from netsh without location permission; the network profile
    (Get-NetConnectionProfile) normally carries the SSID as its name. Sample: see the parts
    'adapters', 'wlan' ({"ExitCode":0,"Text":"...SSID : CorpWiFi..."}) and 'profiles'
    ({"Profiles":[{"ifIndex":12,"Name":"CorpWiFi","NetworkCategory":2}]}).
    """
    doc = network_doc(text)
    wifi = {a.index for a in read_adapters(doc) if a.kind == "wifi" and a.up}
    if not wifi:
        return []
    why: dict[str, str] = {}
    ssids = attempt(why, "netsh", lambda: parse_netsh_ssids(_netsh(doc, "wlan")))
    if ssids:
        return ssids
    profiles = attempt(why, "profiles", lambda: _profile_names(doc, wifi))
    if profiles:
        return profiles
    reasons = "; ".join(why.values()) or "netsh wlan showed no SSID (location permission?)"
    raise FactUnavailable(f"connected to Wi-Fi but the SSID is not readable: {reasons}")


def _profile_names(doc: Any, wifi: set[int]) -> list[str] | None:
    rows = [
        obj(i, "profile") for i in list_field(obj(part(doc, "profiles"), "profiles"), "Profiles")
    ]
    names = {opt_int(r, "ifIndex"): opt_str(r, "Name") for r in rows}
    if not all(names.get(index) for index in wifi):
        return None  # a Wi-Fi adapter without a named profile yet ("Identifying...")
    return list(dict.fromkeys(str(names[index]) for index in sorted(wifi)))


def parse_saved_wifi_profiles(text: str) -> list[str]:
    """Saved Wi-Fi profiles from netsh (the 'wlan_profiles' part).

    Sample: {"wlan_profiles":{"ok":true,"value":{"ExitCode":0,"Text":"Profiles on interface Wi-Fi:
    ..."}}}; no Wi-Fi adapter at all and a failing netsh (no WLAN service) give [].
    """
    doc = network_doc(text)
    why: dict[str, str] = {}
    output = attempt(why, "netsh", lambda: _netsh(doc, "wlan_profiles"))
    if output is None:
        adapters = attempt(why, "adapters", lambda: read_adapters(doc))
        if adapters is not None and not any(a.kind == "wifi" for a in adapters):
            return []
        raise FactUnavailable(why["netsh"])
    return parse_netsh_profiles(output)
