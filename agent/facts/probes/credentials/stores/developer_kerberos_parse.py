"""Pure parsers for Kerberos: klist's caches (MIT, Heimdal, Windows) and keytab principals."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from agent.facts.probes.credentials.scan import match_host, match_realm
from agent.facts.probes.credentials.settings import Organisation

WINDOWS_CACHE = "Windows logon session tickets"
# klist's words (C locale) for "there is no cache" - an empty cache is not an error.
_EMPTY = re.compile(
    r"no credentials cache|no ticket file|not found|no such file|does not exist|"
    r"no credentials|cache file .* not found",
    re.IGNORECASE,
)


def says_no_cache(message: str) -> bool:
    """Whether klist's complaint means there is simply no cache or keytab (not a failure).

    Samples: 'klist: No credentials cache found (filename: /tmp/krb5cc_1000)' (MIT);
    'klist: No ticket file: /tmp/krb5cc_501' (Heimdal).
    """
    return bool(_EMPTY.search(message.strip()))


@dataclass
class TicketCache:
    """One credentials cache: its name, default principal and the services it holds tickets for."""

    name: str
    principal: str | None = None
    services: list[str] = field(default_factory=list)


def parse_klist(text: str) -> list[TicketCache]:
    """Caches listed by `klist` in MIT, Heimdal or Windows format (dates are never parsed).

    Samples:
    MIT:     Ticket cache: FILE:/tmp/krb5cc_1000
             Default principal: alice@AD.EXAMPLE.AC.UK
             11/21/26 20:59:13  11/22/26 20:59:13  krbtgt/AD.EXAMPLE.AC.UK@AD.EXAMPLE.AC.UK
    Heimdal: Credentials cache: API:9F3C2B1A-...
                     Principal: ab1234@AD.EXAMPLE.AC.UK
             Nov 21 09:12:03 2026  Nov 21 19:12:03 2026  krbtgt/AD.EXAMPLE.AC.UK@AD.EXAMPLE.AC.UK
    Windows: #0>     Client: ab1234 @ AD.EXAMPLE.AC.UK
                     Server: cifs/files.example.ac.uk @ AD.EXAMPLE.AC.UK
    Windows labels are translated, so its lines are read by shape ('name @ REALM').
    """
    if re.search(r"^\s*#\d+>.* @ ", text, re.M):
        cache = TicketCache(WINDOWS_CACHE)
        for line in text.splitlines():
            found = re.search(r"(\S+) @ (\S+)", line)
            if not found:
                continue
            principal = f"{found.group(1)}@{found.group(2)}"
            if re.match(r"^\s*#\d+>", line):
                cache.principal = cache.principal or principal
            elif principal not in cache.services:
                cache.services.append(principal)
        return [cache]
    caches: list[TicketCache] = []
    for line in text.splitlines():
        stripped = line.strip()
        header = re.match(r"^(?:Ticket cache|Credentials cache):\s*(\S.*)$", stripped)
        default = re.match(r"^(?:Default principal|Principal):\s*(\S+)$", stripped)
        if header:
            caches.append(TicketCache(header.group(1).strip()))
        elif default and caches:
            caches[-1].principal = default.group(1)
        elif caches and stripped[:1].isalnum() and "@" in stripped.split()[-1]:
            service = stripped.split()[-1]
            if service not in caches[-1].services:
                caches[-1].services.append(service)
    return caches


def parse_keytab_principals(text: str) -> list[str]:
    """Principals of `klist -k <keytab>` (one line per key version and enctype; no keys).

    Sample:
        Keytab name: FILE:/etc/krb5.keytab
        KVNO Principal
        ---- --------------------------------------------------------------------------
           2 host/laptop01.example.ac.uk@AD.EXAMPLE.AC.UK
    """
    principals: list[str] = []
    for line in text.splitlines():
        words = line.split()
        if len(words) >= 2 and words[0].isdigit() and "@" in words[-1]:
            principals.append(words[-1])
    return list(dict.fromkeys(principals))


def _realm(principal: str) -> str:
    return principal.rsplit("@", 1)[-1].lower()


def principal_match(principal: str, org: Organisation) -> str | None:
    """The organisation realm of a principal, or of its instance: the org domain of a service's
    host (cifs/files.example.ac.uk@OTHER) or the realm a cross-realm TGT leads to."""
    name = principal.rsplit("@", 1)[0]
    service, _, instance = name.partition("/")
    if not instance:
        return match_realm(principal, org)
    if service.lower() == "krbtgt":
        return match_realm(principal, org) or match_realm(instance, org)
    return match_realm(principal, org) or match_host(instance, org)


def ticket_findings(cache: TicketCache, org: Organisation) -> list[tuple[str, str]]:
    """(principal, org value) for the default principal and service tickets of the org; the
    default principal's own TGT is left out (it says nothing the principal does not)."""
    found: list[tuple[str, str]] = []
    own = principal_match(cache.principal, org) if cache.principal else None
    if cache.principal and own:
        found.append((cache.principal, own))
    for service in cache.services:
        matched = principal_match(service, org)
        own_tgt = (
            own is not None
            and cache.principal is not None
            and service.lower() == f"krbtgt/{_realm(cache.principal)}@{_realm(cache.principal)}"
        )
        if matched and not own_tgt:
            found.append((service, matched))
    return found


def parse_krb5_conf(text: str) -> list[tuple[str, str]]:
    """In file order: ("include", file), ("includedir", folder) and ("default_ccache_name",
    value) of [libdefaults]. libkrb5 reads includes where they stand and keeps the first value.

    Sample (Fedora: /etc/krb5.conf, then /etc/krb5.conf.d/kcm_default_ccache):
        includedir /etc/krb5.conf.d/
        [libdefaults]
            dns_lookup_realm = false
        #    default_ccache_name = KEYRING:persistent:%{uid}
        [libdefaults]
            default_ccache_name = KCM:
    """
    found: list[tuple[str, str]] = []
    section = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        directive = re.match(r"^(includedir|include)\s+(\S.*)$", line)
        setting = re.match(r"^default_ccache_name\s*=\s*(\S.*)$", line)
        if directive:
            found.append((directive.group(1), directive.group(2).strip()))
        elif line.startswith("["):
            section = line.strip("[] ").lower()
        elif section == "libdefaults" and setting:
            found.append(("default_ccache_name", setting.group(1).strip()))
    return found


def included_file(name: str) -> bool:
    """Whether libkrb5 reads this file of an includedir (letters, digits, '-', '_', or .conf)."""
    return re.fullmatch(r"[\w-]+(\.conf)?", name) is not None


def ccache_type(name: str) -> str:
    """The cache type of a cache name (KCM:, KEYRING:persistent:%{uid}, DIR:..., a bare path is
    FILE)."""
    found = re.match(r"^([A-Za-z]+):", name)
    return found.group(1).upper() if found else "FILE"
