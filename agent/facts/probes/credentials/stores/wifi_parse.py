"""Pure parsers for saved Wi-Fi profiles: GLib key files, netplan, wpa_supplicant, iwd."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from agent.facts.probes.credentials.scan import match_realm, match_ssid
from agent.facts.probes.credentials.settings import Organisation

KeepKey = Callable[[str, str], bool]

_GLIB_ESCAPES = {"s": " ", "n": "\n", "t": "\t", "r": "\r", "\\": "\\"}


@dataclass(frozen=True)
class WifiProfile:
    """One saved network: its SSID and the 802.1X names it carries (never a secret)."""

    name: str
    ssid: str | None
    identities: tuple[str, ...] = ()  # identity, anonymous identity, phase-2 identity
    servers: tuple[str, ...] = ()  # RADIUS server names the profile trusts


def _glib_unescape(value: str) -> str:
    return re.sub(r"\\(.)", lambda m: _GLIB_ESCAPES.get(m.group(1), m.group(1)), value)


def parse_keyfile(text: str, keep: KeepKey) -> dict[str, dict[str, str]]:
    """Sections of a GLib key file (NetworkManager, iwd), keeping only the keys `keep` allows.

    Values of other keys (psk=, password=, form:main:password=...) are never stored. Only the
    first '=' separates key and value (a key may contain ':'). Sample:
        [wifi]
        ssid=eduroam
        [802-1x]
        identity=ab1234@example.ac.uk
        password=...
    """
    sections: dict[str, dict[str, str]] = {}
    section: str | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip()
            sections.setdefault(section, {})
            continue
        key, sep, value = line.partition("=")
        key = key.strip()
        if sep and section is not None and keep(section, key):
            sections[section][key] = _glib_unescape(value.strip())
    return sections


def decode_nm_ssid(value: str) -> str:
    """NetworkManager writes an SSID as text, or as decimal bytes when not printable.

    Samples: "eduroam"; "101;100;117;114;111;97;109;" (= eduroam)
    """
    if re.fullmatch(r"(\d{1,3};)+\d{0,3}", value) and all(
        int(b) < 256 for b in value.split(";") if b
    ):
        return bytes(int(b) for b in value.split(";") if b).decode("utf-8", "replace")
    return value


def _unquote(value: str) -> str:
    """A YAML/ini scalar without its quotes or trailing comment."""
    value = value.strip()
    if value[:1] in ("'", '"'):
        quote = value[0]
        end = value.find(quote, 1)
        while quote == "'" and end != -1 and value[end + 1 : end + 2] == "'":
            end = value.find(quote, end + 2)  # '' is an escaped quote in single-quoted YAML
        inner = value[1:end] if end != -1 else value[1:]
        return inner.replace("''", "'") if quote == "'" else inner.replace('\\"', '"')
    return re.split(r"\s+#", value, maxsplit=1)[0].strip()


_YAML_KEY = re.compile(
    r"""^("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s#'"-][^#]*?|-[^\s#][^#]*?)"""
    r"\s*:(?:\s+(.*))?$"
)


def yaml_leaves(
    text: str, keep: Callable[[tuple[str, ...]], bool]
) -> list[tuple[tuple[str, ...], str | None]]:
    """(path, value) for every mapping key of a block-style YAML file; the value only if kept.

    The subset netplan writes: nested mappings, quoted keys and scalars, list items (their
    contents get a "-" path element), block scalars (skipped). Flow collections stay raw text.
    Sample (netplan 90-NM-<uuid>.yaml):
        network:
          wifis:
            NM-3f1c2a9e:
              access-points:
                "eduroam":
                  auth:
                    identity: "ab1234@example.ac.uk"
    """
    leaves: list[tuple[tuple[str, ...], str | None]] = []
    stack: list[tuple[int, str]] = []
    block_indent: int | None = None
    for raw in text.splitlines():
        content = raw.lstrip(" ")
        indent = len(raw) - len(content)
        if block_indent is not None and (not content.strip() or indent > block_indent):
            continue
        block_indent = None
        if not content.strip() or content.startswith("#") or content.startswith("---"):
            continue
        while stack and stack[-1][0] >= indent:
            stack.pop()
        while content.startswith("- ") or content.rstrip() == "-":
            stack.append((indent, "-"))
            rest = content[1:].lstrip(" ")
            indent += len(content) - len(rest)
            content = rest
        match = _YAML_KEY.match(content.rstrip())
        if not match:
            continue
        key = _unquote(match.group(1))
        path = (*(k for _, k in stack), key)
        value = match.group(2)
        if value is None or value.startswith("#"):
            stack.append((indent, key))
            leaves.append((path, None))
        elif re.fullmatch(r"[|>][+-]?\d*\s*(#.*)?", value.strip()):
            block_indent = indent
            leaves.append((path, None))
        else:
            leaves.append((path, _unquote(value) if keep(path) else None))
    return leaves


_NETPLAN_KEEP = {"identity", "anonymous-identity", "domain-suffix-match"}


def parse_netplan_wifis(text: str) -> list[WifiProfile]:
    """Access points of a netplan file: SSIDs with their 802.1X identities (no passwords).

    Sample: network.wifis.<iface>.access-points."eduroam".auth.identity: "ab1234@example.ac.uk"
    (password:, client-key-password: and psk-like keys are never kept).
    """
    found: dict[tuple[str, str], dict[str, str]] = {}
    for path, value in yaml_leaves(text, lambda p: p[-1] in _NETPLAN_KEEP):
        if len(path) < 5 or path[:2] != ("network", "wifis") or path[3] != "access-points":
            continue
        auth = found.setdefault((path[2], path[4]), {})
        if len(path) == 7 and path[5] == "auth" and value:
            auth[path[6]] = value
    return [
        WifiProfile(
            ssid,
            ssid,
            tuple(v for k in ("identity", "anonymous-identity") if (v := auth.get(k))),
            tuple(v for k in ("domain-suffix-match",) if (v := auth.get(k))),
        )
        for (_, ssid), auth in found.items()
    ]


_WPA_KEEP = {"ssid", "identity", "anonymous_identity", "domain_suffix_match", "domain_match"}


def _wpa_value(key: str, value: str) -> str:
    value = value.strip()
    if value.startswith('"') and value.endswith('"') and len(value) >= 2:
        return value[1:-1]
    if value.startswith('P"') and value.endswith('"'):
        return value[2:-1].encode().decode("unicode_escape", "replace")
    if key == "ssid" and re.fullmatch(r"(?:[0-9a-fA-F]{2})+", value):
        return bytes.fromhex(value).decode("utf-8", "replace")
    return value


def parse_wpa_supplicant(text: str) -> list[WifiProfile]:
    """network={...} blocks of wpa_supplicant.conf (also the eduroam CAT installer's file).

    Sample:
        network={
            ssid="eduroam"
            identity="ab1234@example.ac.uk"
            password="..."          <- never kept, nor psk= or private_key_passwd=
        }
    """
    profiles: list[WifiProfile] = []
    block: dict[str, str] | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if re.fullmatch(r"network\s*=\s*\{", line):
            block = {}
        elif line == "}" and block is not None:
            ssid = block.get("ssid")
            ids = tuple(v for k in ("identity", "anonymous_identity") if (v := block.get(k)))
            servers = tuple(
                v for k in ("domain_suffix_match", "domain_match") if (v := block.get(k))
            )
            profiles.append(WifiProfile(ssid or "", ssid, ids, servers))
            block = None
        elif block is not None and "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            if key.strip() in _WPA_KEEP:
                block[key.strip()] = _wpa_value(key.strip(), value)
    return profiles


def iwd_ssid(file_name: str) -> str:
    """The SSID an iwd profile file is named after: 'eduroam.8021x', or '=<hex>.psk'."""
    stem = file_name.rsplit(".", 1)[0]
    if stem.startswith("=") and re.fullmatch(r"(?:[0-9a-fA-F]{2})+", stem[1:]):
        return bytes.fromhex(stem[1:]).decode("utf-8", "replace")
    return stem


def iwd_keep(section: str, key: str) -> bool:
    """iwd keys worth keeping: EAP identities and the trusted server names, no passwords."""
    return section == "Security" and (
        key.endswith("Identity") or key.endswith("ServerDomainMask") or key == "EAP-Method"
    )


def parse_iwd(file_name: str, text: str) -> WifiProfile:
    """An iwd network file (/var/lib/iwd/eduroam.8021x).

    Sample:
        [Security]
        EAP-Method=PEAP
        EAP-Identity=anonymous@example.ac.uk
        EAP-PEAP-ServerDomainMask=radius.example.ac.uk
        EAP-PEAP-Phase2-Identity=ab1234@example.ac.uk
        EAP-PEAP-Phase2-Password=...   <- never kept
    """
    security = parse_keyfile(text, iwd_keep).get("Security", {})
    ssid = iwd_ssid(file_name)
    ids = sorted((k for k in security if k.endswith("Identity")), key=lambda k: "Phase2" not in k)
    servers = tuple(v for k, v in security.items() if k.endswith("ServerDomainMask"))
    return WifiProfile(ssid, ssid, tuple(security[k] for k in ids), servers)


def wifi_matches(profile: WifiProfile, org: Organisation) -> list[tuple[str, str, str]]:
    """(kind, identity, org value) for a profile: its SSID, and an 802.1X name in the realm.

    The first matching identity is reported (the person's identity before the anonymous
    outer one); a RADIUS server name of the organisation counts when no identity matched.
    """
    found: list[tuple[str, str, str]] = []
    ssid_match = match_ssid(profile.ssid, org)
    if profile.ssid and ssid_match:
        found.append(("wifi_profile", profile.ssid, ssid_match))
    for value in (*profile.identities, *profile.servers):
        realm = match_realm(value, org)
        if realm:
            found.append(("wifi_8021x", value, realm))
            break
    return found
