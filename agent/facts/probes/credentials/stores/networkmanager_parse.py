"""Pure parsers for NetworkManager connections: keyfiles and nmcli's terse output, no secrets."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from agent.facts.context import ParseError
from agent.facts.probes.credentials.stores.vpn_parse import parse_vpn_data
from agent.facts.probes.credentials.stores.wifi_parse import decode_nm_ssid, parse_keyfile

_VPN_HOST_KEYS = ("gateway", "remote", "address", "IPSec gateway", "host")
_KEEP = {
    "connection": {"id", "uuid", "type"},
    "wifi": {"ssid"},
    "802-11-wireless": {"ssid"},
    "802-1x": {"identity", "anonymous-identity", "domain-suffix-match", "domain-match"},
    "vpn": {"service-type", *_VPN_HOST_KEYS},
}


@dataclass(frozen=True)
class NmConnection:
    """What a connection profile says about where it connects (never its secrets)."""

    name: str
    uuid: str
    type: str
    ssid: str | None = None
    identities: tuple[str, ...] = ()
    servers: tuple[str, ...] = ()
    vpn_hosts: tuple[str, ...] = field(default=())


def _keep(section: str, key: str) -> bool:
    if section.startswith("wireguard-peer."):
        return key == "endpoint"
    return key in _KEEP.get(section, set())


def parse_nm_keyfile(text: str) -> NmConnection:
    """A NetworkManager keyfile (*.nmconnection), identity fields only.

    Sample:
        [connection]
        id=eduroam
        uuid=3f1c2a9e-0000-4000-8000-000000000001
        type=wifi
        [wifi]
        ssid=eduroam
        [802-1x]
        identity=ab1234@example.ac.uk
        password=...                       <- never kept ([vpn-secrets] neither)
    """
    sections = parse_keyfile(text, _keep)
    connection = sections.get("connection")
    if not connection or "type" not in connection:
        raise ParseError("not a NetworkManager keyfile: no [connection] type=")
    wifi = sections.get("wifi") or sections.get("802-11-wireless") or {}
    eap = sections.get("802-1x", {})
    vpn = sections.get("vpn", {})
    hosts = [h for key in _VPN_HOST_KEYS for h in re.split(r"[,\s]+", vpn.get(key, "")) if h]
    hosts += [
        peer["endpoint"]
        for name, peer in sections.items()
        if name.startswith("wireguard-peer.") and "endpoint" in peer
    ]
    return NmConnection(
        name=connection.get("id", ""),
        uuid=connection.get("uuid", ""),
        type=connection["type"],
        ssid=decode_nm_ssid(wifi["ssid"]) if "ssid" in wifi else None,
        identities=tuple(v for k in ("identity", "anonymous-identity") if (v := eap.get(k))),
        servers=tuple(v for k in ("domain-suffix-match", "domain-match") if (v := eap.get(k))),
        vpn_hosts=tuple(hosts),
    )


def _terse_fields(line: str) -> list[str]:
    """Fields of an `nmcli -t` line: ':' separates, '\\:' and '\\\\' are escapes."""
    return [re.sub(r"\\(.)", r"\1", f) for f in re.split(r"(?<!\\):", line)]


def parse_nmcli_connections(text: str) -> list[tuple[str, str, str]]:
    """(name, uuid, type) from `nmcli -t -f NAME,UUID,TYPE connection show`.

    Sample:
        eduroam:3f1c2a9e-0000-4000-8000-000000000001:802-11-wireless
        Example VPN:3f1c2a9e-0000-4000-8000-000000000003:vpn
    """
    rows = []
    for line in text.splitlines():
        fields = _terse_fields(line.rstrip("\r"))
        if len(fields) == 3 and fields[1]:
            rows.append((fields[0], fields[1], fields[2]))
    return rows


def parse_nmcli_details(name: str, uuid: str, kind: str, text: str) -> NmConnection:
    """One connection from `nmcli -t -f <WIFI_FIELDS|VPN_FIELDS> connection show <uuid>` (no -s).

    Sample:
        802-11-wireless.ssid:eduroam
        802-1x.identity:ab1234@example.ac.uk
        vpn.data:gateway = vpn.example.ac.uk, user-name = ab1234
    """
    values: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.rstrip("\r").partition(":")
        if sep:
            values[key] = re.sub(r"\\(.)", r"\1", value)
    data = parse_vpn_data(values.get("vpn.data", ""))
    eap = ("802-1x.identity", "802-1x.anonymous-identity")
    return NmConnection(
        name=name,
        uuid=uuid,
        type=kind,
        ssid=values.get("802-11-wireless.ssid") or None,
        identities=tuple(v for k in eap if (v := values.get(k))),
        servers=tuple(v for k in ("802-1x.domain-suffix-match",) if (v := values.get(k))),
        vpn_hosts=tuple(v for k in _VPN_HOST_KEYS if (v := data.get(k))),
    )
