"""netsh wlan text, read by its layout rather than its (translated) labels, in any language."""

from __future__ import annotations

import re
from typing import Any

from agent.facts.context import FactUnavailable, ParseError
from agent.facts.probes.base import first_line
from agent.facts.probes.powershell_parse import opt_int, opt_str

# Blanks netsh puts around its label separator: French puts a no-break space (U+00A0) before the
# colon ("Profil Tous les utilisateurs    \xa0: eduroam"), some builds a narrow one (U+202F).
_BLANKS = " \t\u00a0\u202f\u3000"
# The label separator: the first colon (or full-width colon) followed by a blank. Italian also
# prints "Profilo utente corrente: name" with no blank before the colon.
_SEPARATOR = re.compile(f"[{_BLANKS}]*[:\uff1a][{_BLANKS}]+")
_DASHES = re.compile(r"-{3,}")
_PLACEHOLDER = re.compile(r"<[^<>]*>")  # <None>, <Kein>, <Aucun>, <Nessuno>, <없음>
_QUOTED = re.compile(f'^"(.*)"$|^\u00ab[{_BLANKS}]*(.*?)[{_BLANKS}]*\u00bb$')


def _lines(text: str) -> list[str]:
    """Lines without a byte-order mark or trailing blanks (CRLF, CR and LF all end a line)."""
    return [line.replace("\ufeff", "").rstrip(_BLANKS) for line in text.splitlines()]


def split_label(line: str) -> tuple[str, str] | None:
    """'    SSID name              : "eduroam"' -> ('SSID name', '"eduroam"'); None without one.

    The label is what comes before the first separator; the value may contain more colons.
    """
    match = _SEPARATOR.search(line)
    if match is None:
        return None
    label = line[: match.start()].strip(_BLANKS)
    return (label, line[match.end() :].strip(_BLANKS)) if label else None


def _indented(line: str) -> bool:
    return line[:1] in (" ", "\t", "\u00a0")


def parse_netsh_ssids(text: str) -> list[str]:
    """SSIDs from `netsh wlan show interfaces`; the 'SSID' label is the same in every language.

    Sample (French, captured, hnykda/wifi-heatmapper __tests__/data/win-netsh-interfaces-fr.txt):
       Type de réseau          \xa0: Infrastructure
       SSID                  : SSID-1
       Point d'accès d'identificateur SSID (Service Set Identifier) : fe:dc:ba:09:87:02
    """
    ssids: list[str] = []
    for line in _lines(text):
        pair = split_label(line)
        if pair and pair[0] == "SSID" and pair[1] and pair[1] not in ssids:
            ssids.append(pair[1])
    return ssids


def parse_netsh_profiles(text: str) -> list[str]:
    """Profile names from `netsh wlan show profiles`, in any display language.

    The layout is the same in every language: per interface a heading line ending with a colon,
    then the group policy section (bare names), then the user section ("<label> : <name>"); each
    section heading is a line of its own, entries are indented, "<None>"-like placeholders stand
    for an empty section. Sample (French, captured, hnykda/wifi-heatmapper, with U+00A0 shown):

        Profils sur l’interface Wi-Fi\xa0:
        Profils de stratégies de groupe (lecture seule)
        -----------------------------------------------
           <Aucun>
        Profils utilisateurs
        -------------
           Profil Tous les utilisateurs    \xa0: Profile1 2
    """
    lines = _lines(text)
    header = any(line and not _indented(line) and line.endswith((":", "\uff1a")) for line in lines)
    if not header and not any(_DASHES.fullmatch(line.strip()) for line in lines):
        raise ParseError(f"netsh wlan show profiles: no profile list in {text.strip()[:60]!r}")
    names: list[str] = []
    # 1 = the group policy section of the current interface; None before any interface heading
    # (a listing cut short at the top): its names are then read as "<label> : <name>".
    section: int | None = None
    for line in lines:
        stripped = line.strip(_BLANKS)
        if not stripped or _DASHES.fullmatch(stripped):
            continue
        if not _indented(line):
            if stripped.endswith((":", "\uff1a")):
                section = 0
            elif section is not None:
                section += 1
            continue
        pair = None if section == 1 else split_label(line)
        name = pair[1] if pair else stripped
        if name and not _PLACEHOLDER.fullmatch(name) and name not in names:
            names.append(name)
    return names


def parse_netsh_profile_ssids(text: str) -> list[str]:
    """SSIDs from `netsh wlan show profile name=X`: the only quoted values, in any language.

    Sample (German, captured, hnykda/wifi-heatmapper win-netsh-profile-name-de.txt):
        Anzahl von SSIDs        : 1
        SSID-Name              : "SSID-1"
    Older French builds quote with guillemets: 'Nom du SSID            : « Rurouni »'.
    """
    ssids: list[str] = []
    for line in _lines(text):
        pair = split_label(line)
        match = _QUOTED.match(pair[1]) if pair else None
        if match:
            ssid = match.group(1) if match.group(1) is not None else match.group(2)
            if ssid not in ssids:
                ssids.append(ssid)
    return ssids


class NetshFailed(FactUnavailable):
    """netsh exited non-zero; `output` is what it printed (its error text)."""

    def __init__(self, output: str) -> None:
        super().__init__(f"netsh wlan failed: {first_line(output) or 'no output'}")
        self.output = output


def netsh_output(result: dict[str, Any]) -> str:
    """netsh's output, from a script's {ExitCode, Text} (SAVED_WIFI_PS); non-zero exit: NetshFailed.

    Sample: {"ExitCode":0,"Text":"Profiles on interface Wi-Fi: ..."}
    """
    output = opt_str(result, "Text") or ""
    if opt_int(result, "ExitCode") not in (0, None):
        raise NetshFailed(output)
    return output
