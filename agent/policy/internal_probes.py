"""`[network] internal_probes`: endpoints only the organisation's inside can reach, parsed."""

from __future__ import annotations

import dataclasses
import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

# A short list: each entry costs a resolver query and a connection attempt on every report.
MAX_PROBES = 16
_NAME = re.compile(r"[a-z0-9_-]+(\.[a-z0-9_-]+)*", re.IGNORECASE)
ISSUER_MARK = " issuer="


@dataclass(frozen=True)
class InternalProbe:
    """One entry: a name to resolve, a host with a TCP port, or an https:// URL (TLS), the
    last optionally with text its certificate's issuer must contain."""

    text: str
    host: str
    port: int | None
    tls: bool
    issuer: str | None


def _host(text: str) -> str:
    host = text.strip("[]")
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    if not _NAME.fullmatch(host.rstrip(".")):
        raise ValueError(f"{text!r} is neither a host name nor an address")
    return host.rstrip(".").lower()


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _port(text: str, entry: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ValueError(f"{entry!r}: the port must be a number from 1 to 65535")
    return int(text)


def _url(entry: str, issuer: str | None) -> InternalProbe:
    parts = urlsplit(entry)
    if parts.scheme != "https" or not parts.hostname:
        raise ValueError(f"{entry!r}: only https:// URLs with a host can be probed")
    try:
        port = parts.port or 443
    except ValueError as exc:
        raise ValueError(f"{entry!r}: the port must be a number from 1 to 65535") from exc
    return InternalProbe(entry, _host(parts.hostname), port, True, issuer)


def parse_internal_probe(raw: str) -> InternalProbe:
    """One entry, parsed; its `text` is the entry as written (issuer included)."""
    return dataclasses.replace(_parse(raw), text=raw.strip())


def _parse(raw: str) -> InternalProbe:
    """'intranet.example.ac.uk', '10.20.0.5:443', 'ldap.example.ac.uk:636', '[2001:db8::5]:22'
    or 'https://wiki.example.ac.uk/ issuer=Example Internal CA'; ValueError saying why not."""
    entry = raw.strip()
    issuer = None
    if ISSUER_MARK in entry:
        entry, issuer = (part.strip() for part in entry.split(ISSUER_MARK, 1))
        if not issuer:
            raise ValueError(f"{raw!r}: issuer= needs the issuer's name")
    if "://" in entry:
        return _url(entry, issuer)
    if issuer is not None:
        raise ValueError(f"{raw!r}: issuer= goes with an https:// URL")
    if " " in entry or not entry:
        raise ValueError(f"{raw!r} is not a host name, host:port or https:// URL")
    if entry.startswith("["):
        host, _, port = entry.partition("]:")
        return InternalProbe(entry, _host(host + "]"), _port(port, raw), False, None)
    if entry.count(":") == 1:
        host, port = entry.split(":")
        return InternalProbe(entry, _host(host), _port(port, raw), False, None)
    host = _host(entry)
    if _is_address(host):
        raise ValueError(
            f"{raw!r}: an address needs a port (e.g. 10.20.0.5:443, [2001:db8::5]:443); "
            "there is no name to resolve"
        )
    return InternalProbe(entry, host, None, False, None)


def internal_probes(value: object) -> list[str]:
    """The policy value: the entries as written, each checked; at most MAX_PROBES."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError("must be a list of strings")
    if len(value) > MAX_PROBES:
        raise ValueError(f"at most {MAX_PROBES} targets (each is tried on every report)")
    entries = [v.strip() for v in value]
    for entry in entries:
        parse_internal_probe(entry)
    if len(set(entries)) != len(entries):
        raise ValueError("lists a target twice")
    return entries
