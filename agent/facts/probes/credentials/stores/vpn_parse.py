"""Pure parsers for VPN profiles: OpenVPN (files, OpenVPN GUI registry), AnyConnect,
GlobalProtect, WireGuard, RAS phonebook."""

from __future__ import annotations

import json
import plistlib
import re
from typing import Any

from agent.facts.context import ParseError
from agent.facts.probes.credentials.scan import match_host
from agent.facts.probes.credentials.settings import Organisation
from agent.facts.probes.credentials.stores.appdata_parse import Hit
from agent.facts.probes.credentials.stores.clients_parse import registry_session_hits
from agent.matching import host_of


def host_matches(hosts: list[str], org: Organisation) -> list[tuple[str, str]]:
    """(host, org value) for each organisation host among gateway/remote/portal values.

    Values may be URLs, host:port or host names; anything with a space is a display name.
    """
    found: list[tuple[str, str]] = []
    for value in hosts:
        value = value.strip()
        matched = match_host(value, org) if value and " " not in value else None
        if matched and (host_of(value), matched) not in found:
            found.append((host_of(value), matched))
    return found


def parse_openvpn_remotes(text: str) -> list[str]:
    """Hosts of the `remote` lines of an OpenVPN profile (.ovpn/.conf), inline blocks skipped.

    Sample:
        client
        remote vpn.example.ac.uk 1194 udp
        <connection>
        remote vpn2.example.ac.uk 443 tcp
        </connection>
        <key>
        ...                    <- inline keys are skipped, never kept
        </key>
    """
    hosts: list[str] = []
    inline: str | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if inline is not None:
            if line.lower() == f"</{inline}>":
                inline = None
            continue
        tag = re.fullmatch(r"<([a-z][a-z0-9-]*)>", line.lower())
        if tag and tag.group(1) != "connection":
            inline = tag.group(1)
            continue
        words = line.split()
        if len(words) >= 2 and words[0].lower() in ("remote", "--remote"):
            hosts.append(words[1].strip("\"'"))
    return hosts


_ANYCONNECT_TAGS = ("HostAddress", "DefaultHostAddress", "HostName", "DefaultHostName")


def parse_anyconnect_hosts(text: str) -> list[str]:
    """Gateway hosts of an AnyConnect / Secure Client preferences file or VPN profile.

    Samples: <DefaultHostAddress>vpn.example.ac.uk</DefaultHostAddress> (preferences.xml);
    <HostEntry><HostName>Example VPN</HostName><HostAddress>vpn.example.ac.uk</HostAddress>
    </HostEntry> (Profile/*.xml). Display names (with spaces) are dropped by host_matches.
    """
    if "<" not in text:
        raise ParseError("not an AnyConnect XML file")
    tags = "|".join(_ANYCONNECT_TAGS)
    pattern = rf"<(?:\w+:)?({tags})\b[^>]*>\s*([^<]*?)\s*</(?:\w+:)?\1>"
    return [value for _, value in re.findall(pattern, text) if value]


def parse_xml_hosts(text: str) -> list[str]:
    """Every host-like text node of a small XML file (GlobalProtect's pangps.xml).

    Sample: <GlobalProtect><PanSetup><Portal>vpn.example.ac.uk</Portal></PanSetup></GlobalProtect>
    """
    return list(re.findall(r">\s*([^<>\s]+\.[^<>\s]+)\s*<", text))


def plist_strings(data: bytes) -> list[str]:
    """Every string (dictionary keys included) of an XML or binary property list.

    Sample (GlobalProtect settings plist): {"Palo Alto Networks": {"GlobalProtect":
    {"PanSetup": {"Portal": "vpn.example.ac.uk"}}}}
    """
    try:
        root = plistlib.loads(data)
    except (plistlib.InvalidFileException, ValueError, TypeError, OverflowError) as exc:
        raise ParseError(f"not a property list: {exc}") from exc
    strings: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, str):
            strings.append(node)
        elif isinstance(node, dict):
            for key, value in node.items():
                strings.append(str(key))
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(root)
    return strings


def parse_wireguard_endpoints(text: str) -> list[str]:
    """`Endpoint` values of the [Peer] sections of a WireGuard config (keys never kept).

    Sample:
        [Interface]
        PrivateKey = ...
        [Peer]
        PublicKey = ...
        Endpoint = wg.example.ac.uk:51820
    """
    endpoints: list[str] = []
    section = ""
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip().lower()
        elif section == "peer" and "=" in line:
            key, _, value = line.partition("=")
            if key.strip().lower() == "endpoint" and value.strip():
                endpoints.append(value.strip())
    return endpoints


def parse_rasphone(text: str) -> list[tuple[str, str]]:
    """(entry name, server) from a Windows RAS phonebook (rasphone.pbk).

    Sample:
        [Example VPN]
        MEDIA=rastapi
        Type=2
        PhoneNumber=vpn.example.ac.uk
    """
    entries: list[tuple[str, str]] = []
    name: str | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("[") and line.endswith("]"):
            name = line[1:-1]
        elif name is not None and line.lower().startswith("phonenumber="):
            server = line.split("=", 1)[1].strip()
            if server:
                entries.append((name, server))
    return entries


def parse_vpn_data(value: str) -> dict[str, str]:
    """NetworkManager's vpn.data as nmcli prints it: 'key = value, key = value'.

    Sample: "gateway = vpn.example.ac.uk, protocol = anyconnect, user-name = ab1234"
    """
    data: dict[str, str] = {}
    for item in re.split(r",\s*(?=[\w .:-]+ = )", value):
        key, sep, rest = item.partition(" = ")
        if sep:
            data[key.strip()] = rest.strip()
    return data


def parse_gp_registry(text: str) -> list[tuple[str, str]]:
    """(registry key, value or subkey name) from the GlobalProtect registry script's JSON.

    Sample: {"Keys":[{"Key":"HKEY_LOCAL_MACHINE\\SOFTWARE\\Palo Alto Networks\\GlobalProtect\\
    PanSetup","Values":["vpn.example.ac.uk"]}]}
    """
    try:
        doc = json.loads(text.strip().lstrip("\ufeff") or "{}")
    except ValueError as exc:
        raise ParseError(f"GlobalProtect registry script did not print JSON: {exc}") from exc
    rows = doc.get("Keys", []) if isinstance(doc, dict) else None
    if isinstance(rows, dict):
        rows = [rows]
    if not isinstance(rows, list):
        raise ParseError("GlobalProtect registry script: expected {Keys: [...]}")
    found: list[tuple[str, str]] = []
    for row in rows:
        if not isinstance(row, dict) or not isinstance(row.get("Key"), str):
            continue
        values = row.get("Values") or []
        for value in values if isinstance(values, list) else [values]:
            if isinstance(value, str):
                found.append((row["Key"], value))
    return found


def openvpn_gui_hits(text: str, org: Organisation) -> list[tuple[str, Hit]]:
    """(registry key, hit) per OpenVPN GUI connection with a saved user name that is the
    organisation's, or whose connection (its .ovpn file's name) is an organisation host.

    Sample (the registry script's JSON; HostName is the connection name, HasPassword: the
    DPAPI-sealed auth-data value is there): {"Sessions":[{"Key":"HKEY_USERS\\\\S-1-5-21-...-1001
    \\\\Software\\\\OpenVPN-GUI\\\\configs\\\\vpn.example.ac.uk","HostName":"vpn.example.ac.uk",
    "UserName":"ab1234","HasPassword":true}]}
    """
    return registry_session_hits(text, org, "OpenVPN GUI")
