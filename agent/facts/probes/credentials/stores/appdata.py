"""What the browser, mail and OS-store finders share: store reads, queries, Mozilla profiles."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from agent.facts.context import Context, FactUnavailable, FileMissing, ParseError
from agent.facts.probes.credentials.per_os import join
from agent.facts.probes.credentials.scan import ScanState
from agent.facts.probes.credentials.settings import Organisation
from agent.facts.probes.credentials.stores.appdata_parse import (
    Hit,
    Rows,
    parse_mozilla_logins,
    parse_profiles_ini,
    site_hits,
)
from agent.facts.probes.credentials.stores.storefiles import list_folder, read_store_file

Finder = Callable[[Context, ScanState], None]


def read(ctx: Context, scan: ScanState, store: str, path: str) -> str | None:
    """A store file's text; None when it does not exist or could not be read (then noted)."""
    return read_store_file(ctx, scan, store, path)


def record(scan: ScanState, store: str, location: str, hits: Iterable[Hit]) -> None:
    for kind, identity, matched in hits:
        scan.add(kind, store, location, identity, matched)


def query(
    ctx: Context,
    scan: ScanState,
    store: str,
    path: str,
    sql: str,
    hits: Callable[[Rows, Organisation], list[Hit]],
) -> None:
    """Run one metadata query and record its hits; a missing file is simply absent."""
    try:
        rows = ctx.sqlite_rows(path, sql)
    except FileMissing:
        return
    except FactUnavailable as exc:
        scan.not_read(store, path, str(exc))
        return
    record(scan, store, path, hits(rows, scan.org))


def listing(ctx: Context, scan: ScanState, store: str, path: str) -> dict[str, str] | None:
    """A folder's entries as name -> kind; None when it does not exist or was not readable."""
    entries = list_folder(ctx, scan, store, path)
    return None if entries is None else {entry.name: entry.kind for entry in entries}


def mozilla_profiles(ctx: Context, scan: ScanState, store: str, root: str) -> list[str]:
    """The profile folders a Mozilla `profiles.ini` lists (none when the app is absent)."""
    ini = join(ctx, root, "profiles.ini")
    try:
        entries = parse_profiles_ini(ctx.read_text(ini))
    except FileMissing:
        return []
    except FactUnavailable as exc:
        scan.not_read(store, ini, str(exc))
        return []
    return [join(ctx, root, path) if relative else path for path, relative in entries]


def mozilla_logins(ctx: Context, scan: ScanState, store: str, profile: str) -> None:
    """The organisation sites among a Mozilla profile's saved logins."""
    path = join(ctx, profile, "logins.json")
    text = read(ctx, scan, store, path)
    if text is None:
        return
    try:
        record(scan, store, path, site_hits(parse_mozilla_logins(text), scan.org))
    except ParseError as exc:
        scan.not_read(store, path, str(exc))
