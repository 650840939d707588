"""Parsers for the OS credential stores: Credential Manager, keychain dumps, Secret Service."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from agent.facts.context import ParseError
from agent.facts.probes.credentials.scan import match_realm, match_ssid
from agent.facts.probes.credentials.settings import Organisation
from agent.facts.probes.credentials.stores.appdata_parse import Hit, org_token
from agent.facts.probes.powershell_parse import obj, opt_str, part, ps_list

_CMDKEY_FIELD = re.compile(r"^\s+([^:]+?)\s?:\s(.*)$")  # "    Target: x", French "Cible : x"

HASHED = "gkr:compat:hashed:"

# acct/svce/srvr name passwords; a certificate's alis/labl name its subject (a client certificate
# for EAP-TLS or S/MIME carries the university address).
_KEYCHAIN_ATTR = re.compile(r'^\s+"(acct|svce|srvr|alis|labl)"<\w+>=(.*)$')
_CERTIFICATE = "0x80001000"
_WLAN = re.compile(r"\.wlan\.ssid\.(.+)$")


@dataclass(frozen=True)
class KeychainItem:
    """The naming attributes of one keychain item (`security dump-keychain` without -d)."""

    item_class: str
    attributes: dict[str, str]


def parse_credman(doc: Any) -> list[tuple[str, str | None]]:
    """(target, user) of every Credential Manager entry from the PowerShell JSON.

    Sample: {"creds": {"ok": true, "value": [{"Target": "LegacyGeneric:target=git:https://git.
    example.ac.uk", "User": "ab1234", "Type": "1"}]}}
    """
    entries = []
    for row in ps_list(part(doc, "creds"), "creds"):
        record = obj(row, "credential")
        target = opt_str(record, "Target")
        if target:
            entries.append((target, opt_str(record, "User")))
    return entries


def parse_cmdkey(text: str) -> list[tuple[str, str | None]]:
    """(target, user) from `cmdkey /list`, by layout (the labels are localised).

    Sample:     Target: Domain:target=files.example.ac.uk
                Type: Domain Password
                User: EXAMPLE\\ab1234
    Each entry is an indented block; its first field is the target, its third the user.
    """
    entries, fields = [], []
    for line in [*text.splitlines(), ""]:
        if line.strip():
            if match := _CMDKEY_FIELD.match(line):
                fields.append(match.group(2).strip())
            continue
        if fields:
            entries.append((fields[0], fields[2] if len(fields) > 2 else None))
        fields = []
    return entries


def credential_hits(
    entries: Iterable[tuple[str, str | None]], org: Organisation
) -> list[tuple[str, Hit]]:
    """(target, hit) for entries whose user or target names the organisation.

    Sample: [("Domain:target=files.example.ac.uk", "EXAMPLE\\\\ab1234")] -> identity
    'files.example.ac.uk'.
    """
    hits = []
    for target, user in entries:
        if found := org_token(user, org) or org_token(target, org):
            hits.append((target, ("stored_credential", found[0], found[1])))
    return hits


def _keychain_value(raw: str) -> str | None:
    raw = raw.strip()
    if raw.startswith("0x"):  # 0x6162...  "ab..." : bytes that are not all printable
        try:
            return bytes.fromhex(raw.split()[0][2:]).decode("utf-8", "replace").rstrip("\0")
        except ValueError:
            return None
    if len(raw) < 2 or not raw.startswith('"') or not raw.endswith('"'):
        return None  # <NULL>
    data = bytearray()
    for match in re.finditer(r"\\([0-7]{3})|\\(.)|([^\\]+)", raw[1:-1]):
        octal, escaped, plain = match.groups()
        data += bytes([int(octal, 8)]) if octal else (escaped or plain).encode()
    return data.decode("utf-8", "replace")


def parse_keychain_dump(text: str) -> list[KeychainItem]:
    """Items of `security dump-keychain` (no -d: no secret is printed): naming attributes only.

    Sample: keychain: "/Users/alice/Library/Keychains/login.keychain-db"
            class: "inet"
            attributes:
                "acct"<blob>="ab1234@example.ac.uk"
                "srvr"<blob>="idp.example.ac.uk"
    """
    items: list[KeychainItem] = []
    for line in text.splitlines():
        if line.startswith("class: "):
            items.append(KeychainItem(line[7:].strip().strip('"'), {}))
        elif items and (match := _KEYCHAIN_ATTR.match(line)):
            value = _keychain_value(match.group(2))
            if value:
                items[-1].attributes[match.group(1)] = value
    return items


def keychain_hits(items: Iterable[KeychainItem], org: Organisation) -> list[Hit]:
    """Organisation logins, Wi-Fi passwords, 802.1X identities and certificates in a keychain.

    Sample: KeychainItem("genp", {"svce": "com.apple.network.eap.user.item.wlan.ssid.eduroam",
    "acct": "ab1234@example.ac.uk"}) -> ("wifi_profile", "ab1234@example.ac.uk", "example.ac.uk").
    """
    hits = []
    for item in items:
        acct, svce = item.attributes.get("acct"), item.attributes.get("svce", "")
        wlan = _WLAN.search(svce)
        ssid = wlan.group(1) if wlan else acct if svce == "AirPort" else None
        found = org_token(acct, org)
        if ssid is not None:
            if found or (found := _ssid(ssid, org)):
                hits.append(("wifi_profile", *found))
            continue
        if item.item_class == _CERTIFICATE:
            alias, label = item.attributes.get("alis"), item.attributes.get("labl")
            if found := org_token(alias, org) or org_token(label, org):
                hits.append(("certificate", *found))
            continue
        found = found or org_token(item.attributes.get("srvr"), org) or org_token(svce, org)
        if found:
            kind = "saved_login" if item.item_class == "inet" else "stored_credential"
            hits.append((kind, *found))
    return hits


def _ssid(ssid: str, org: Organisation) -> tuple[str, str] | None:
    matched = match_ssid(ssid, org)
    return (ssid, matched) if matched else None


def parse_bus_reply(text: str) -> Any:
    """The first value of a `busctl --json=short call` reply, variants unwrapped.

    Sample: {"type":"a{sv}","data":[{"Label":{"type":"s","data":"Login"},"Locked":{"type":"b",
    "data":false}}]} -> {"Label": "Login", "Locked": False}
    """
    try:
        reply = json.loads(text)
        value = reply["data"][0]
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise ParseError(f"busctl printed an unexpected reply: {text[:60]!r}") from exc
    if isinstance(value, dict) and set(value) == {"type", "data"}:
        value = value["data"]
    if isinstance(value, dict):
        return {
            k: v["data"] if isinstance(v, dict) and set(v) == {"type", "data"} else v
            for k, v in value.items()
        }
    return value


def secret_item_hits(label: str, attributes: Mapping[str, str], org: Organisation) -> list[Hit]:
    """An organisation credential among a Secret Service item's label and attributes.

    Samples: ("Git: https://git.example.ac.uk/", {"server": "git.example.ac.uk", "user": "alice"});
    ("Network secret for eduroam/802-1x/password", {"setting-name": "802-1x"}); a locked item
    shows only MD5 hashes ({"gkr:compat:hashed:server": "<md5>"}), checked against the
    organisation's exact domains, VPN hosts, realms and SSIDs.
    """
    if "connection-uuid" in attributes and label.count("/") >= 2:  # NetworkManager secret
        words = label.rsplit("/", 2)[0].split(" ")
        for start in range(len(words)):
            if found := _ssid(" ".join(words[start:]), org):
                return [("wifi_profile", *found)]
    plain = [v for k, v in attributes.items() if not k.startswith(HASHED) and k != "xdg:schema"]
    for value in [*plain, label]:
        if found := org_token(value, org):
            return [("stored_credential", *found)]
    hashed = {v.lower() for k, v in attributes.items() if k.startswith(HASHED)}
    candidates = [*org.domains, *org.vpn_hosts, *org.kerberos_realms, *org.ssids]
    for value in [*candidates, *(realm.upper() for realm in org.kerberos_realms)]:
        if hashlib.md5(value.encode(), usedforsecurity=False).hexdigest() in hashed:
            return [("stored_credential", value, match_realm(value, org) or value)]
    return []
