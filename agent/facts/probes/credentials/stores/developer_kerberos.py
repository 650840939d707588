"""Kerberos tickets (klist: MIT, Heimdal, Windows) and keytabs (klist -k) in the org's realms."""

from __future__ import annotations

from dataclasses import dataclass

from agent.facts.context import (
    CommandNotFound,
    Context,
    DirEntry,
    FactUnavailable,
    FileMissing,
)
from agent.facts.probes.base import CommandFailed, run_checked
from agent.facts.probes.credentials.per_os import PerOs, join
from agent.facts.probes.credentials.scan import ScanState
from agent.facts.probes.credentials.stores.developer_kerberos_parse import (
    ccache_type,
    included_file,
    parse_keytab_principals,
    parse_klist,
    parse_krb5_conf,
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
    # A folder of per-user runtime folders (/run/user/<uid>) that may hold krb5cc* caches.
    session_folders: str | None = None
    # krb5.conf: default_ccache_name says where sessions keep their caches.
    config: str | None = None


# MIT Kerberos on Linux keeps FILE caches in /tmp by default, FILE or DIR caches in
# /run/user/<uid> when krb5.conf says so, and keys in keytab files; KCM: (Fedora, sssd) and
# KEYRING: caches live in a daemon or the kernel, out of any file's reach. macOS (API caches)
# and Windows (LSA) keep tickets in the session, where klist alone sees them.
FILES = PerOs(
    linux=KerberosFiles(
        ("/tmp",),
        ("/etc/krb5.keytab",),
        keytabs_in_homes=True,
        session_folders="/run/user",
        config="/etc/krb5.conf",
    ),
    darwin=KerberosFiles((), (), keytabs_in_homes=False),
    windows=KerberosFiles((), (), keytabs_in_homes=False),
)
# Cache types whose other sessions' tickets no file read reaches, and why.
OUT_OF_REACH = {
    "KCM": "the sessions keep tickets in the KCM daemon (default_ccache_name = KCM:), which "
    "shows each user only their own caches; klist read this session's",
    "KEYRING": "the sessions keep tickets in each user's kernel keyring (default_ccache_name = "
    "KEYRING:), which only that user's processes can list; klist read this session's",
}


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


def _listing(ctx: Context, folder: str) -> list[DirEntry]:
    try:
        return ctx.scandir(folder)
    except FactUnavailable:
        return []  # other sessions' caches are out of reach; klist has read this session's


def _file_caches(ctx: Context, scan: ScanState, folder: str) -> None:
    """The tickets of every krb5cc* cache in `folder`: FILE caches, and the tkt* members of
    DIR collections (a krb5cc* folder)."""
    for entry in _listing(ctx, folder):
        if not entry.name.startswith("krb5cc") or scan.out_of_time():
            continue
        path = join(ctx, folder, entry.name)
        members = [path] if entry.kind == "file" else []
        if entry.kind == "dir":
            members = [
                join(ctx, path, e.name)
                for e in _listing(ctx, path)
                if e.kind == "file" and e.name.startswith("tkt")
            ]
        for member in members:
            _tickets(ctx, scan, ["klist", "-c", f"FILE:{member}"], f"FILE:{member}")


def _session_folders(ctx: Context, root: str) -> list[str]:
    """Each user's runtime folder under `root` (/run/user/<uid>)."""
    return [join(ctx, root, e.name) for e in _listing(ctx, root) if e.kind == "dir"]


def _config_values(ctx: Context, scan: ScanState, path: str, depth: int = 0) -> list[str]:
    """The default_ccache_name values of krb5.conf and what it includes, in libkrb5's order."""
    try:
        text = ctx.read_text(path)
    except FileMissing:
        return []
    except FactUnavailable as exc:
        scan.not_read(STORE, path, why(exc))
        return []
    values: list[str] = []
    for kind, value in parse_krb5_conf(text):
        if kind == "default_ccache_name":
            values.append(value)
        elif depth < 3 and kind == "include":
            values += _config_values(ctx, scan, value, depth + 1)
        elif depth < 3 and kind == "includedir":
            try:
                names = ctx.listdir(value)
            except FactUnavailable:
                continue  # a missing include folder is what libkrb5 skips too
            for name in filter(included_file, names):
                values += _config_values(ctx, scan, join(ctx, value, name), depth + 1)
    return values


def _out_of_reach(ctx: Context, scan: ScanState, config: str) -> None:
    """Say so when krb5.conf keeps the sessions' caches where no file read reaches them."""
    values = _config_values(ctx, scan, config)
    kind = ccache_type(values[0]) if values else "FILE"
    if kind in OUT_OF_REACH:
        scan.not_read(STORE, f"{kind}: ticket caches", OUT_OF_REACH[kind])


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
    folders = list(files.cache_folders)
    if files.session_folders:
        folders += _session_folders(ctx, files.session_folders)
    for folder in folders:
        _file_caches(ctx, scan, folder)
    if files.config:
        _out_of_reach(ctx, scan, files.config)
    keytabs = [path for path in files.keytabs if ctx.exists(path)]
    if files.keytabs_in_homes:
        keytabs += _home_keytabs(ctx, scan)
    for path in keytabs:
        _keytab(ctx, scan, path)
