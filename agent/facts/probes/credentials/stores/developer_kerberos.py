"""Kerberos tickets (klist: MIT, Heimdal, Windows) and keytabs (klist -k) in the org's realms."""

from __future__ import annotations

from dataclasses import dataclass

from agent.facts.context import CommandNotFound, Context, FactUnavailable, FileMissing
from agent.facts.probes.base import CommandFailed, run_checked
from agent.facts.probes.credentials.per_os import PerOs, join
from agent.facts.probes.credentials.scan import ScanState
from agent.facts.probes.credentials.stores.developer_kerberos_parse import (
    parse_keytab_principals,
    parse_klist,
    principal_match,
    says_no_cache,
    ticket_findings,
)
from agent.facts.probes.credentials.stores.storefiles import why

STORE = "kerberos"


@dataclass(frozen=True)
class KerberosFiles:
    """Where tickets and keys sit in files, beyond the session's own cache that klist shows."""

    cache_folders: tuple[str, ...]  # folders of other sessions' FILE:krb5cc* caches
    keytabs: tuple[str, ...]  # the machine's keytabs
    keytabs_in_homes: bool  # *.keytab files at the top of each home


# MIT Kerberos on Linux keeps FILE caches in /tmp and keys in keytab files; macOS (API caches)
# and Windows (LSA) keep tickets in the session, where klist alone sees them.
FILES = PerOs(
    linux=KerberosFiles(("/tmp",), ("/etc/krb5.keytab",), keytabs_in_homes=True),
    darwin=KerberosFiles((), (), keytabs_in_homes=False),
    windows=KerberosFiles((), (), keytabs_in_homes=False),
)


def _klist(ctx: Context, scan: ScanState, argv: list[str], where: str) -> str | None:
    """klist's output; None for no cache/keytab (not an error) or a refusal (noted)."""
    try:
        return run_checked(ctx, argv, timeout=10.0)
    except CommandNotFound:
        return None
    except CommandFailed as failure:
        # klist exits 1 for an empty cache or keytab too: only another failure is worth noting.
        if not says_no_cache(failure.stderr or failure.stdout):
            scan.not_read(STORE, where, why(failure))
        return None
    except FactUnavailable as exc:
        scan.not_read(STORE, where, why(exc))
        return None


def _tickets(ctx: Context, scan: ScanState, argv: list[str], where: str) -> None:
    for cache in parse_klist(_klist(ctx, scan, argv, where) or ""):
        for principal, matched in ticket_findings(cache, scan.org):
            scan.add("kerberos_ticket", STORE, cache.name, principal, matched)


def _keytab(ctx: Context, scan: ScanState, path: str) -> None:
    for principal in parse_keytab_principals(_klist(ctx, scan, ["klist", "-k", path], path) or ""):
        matched = principal_match(principal, scan.org)
        if matched:
            scan.add("kerberos_keytab", STORE, path, principal, matched)


def _file_caches(ctx: Context, scan: ScanState, folder: str) -> None:
    """The tickets of every FILE:krb5cc* cache in `folder`."""
    try:
        entries = ctx.scandir(folder)
    except FactUnavailable:
        return  # other sessions' caches are out of reach; klist has read this session's
    for entry in entries:
        if entry.kind == "file" and entry.name.startswith("krb5cc") and not scan.out_of_time():
            cache = f"FILE:{join(ctx, folder, entry.name)}"
            _tickets(ctx, scan, ["klist", "-c", cache], cache)


def _home_keytabs(ctx: Context, scan: ScanState) -> list[str]:
    """The *.keytab files at the top of every home."""
    keytabs: list[str] = []
    for home in scan.homes:
        try:
            entries = ctx.scandir(home.path)
        except FileMissing:
            continue
        except FactUnavailable as exc:
            scan.not_read(STORE, home.path, why(exc))
            continue
        keytabs += [
            join(ctx, home.path, e.name)
            for e in entries
            if e.kind == "file" and e.name.endswith(".keytab")
        ]
    return keytabs


def find_kerberos(ctx: Context, scan: ScanState) -> None:
    """This session's tickets; where the OS keeps them in files (Linux), every FILE cache and
    keytab too."""
    files = FILES.pick(ctx)
    _tickets(ctx, scan, ["klist"], "klist")
    for folder in files.cache_folders:
        _file_caches(ctx, scan, folder)
    keytabs = [path for path in files.keytabs if ctx.exists(path)]
    if files.keytabs_in_homes:
        keytabs += _home_keytabs(ctx, scan)
    for path in keytabs:
        _keytab(ctx, scan, path)
