"""Shared by the client-store finders: read one store file, parse it, record or note it."""

from __future__ import annotations

from collections.abc import Callable

from agent.facts.context import Context, ParseError
from agent.facts.probes.credentials.scan import ScanState
from agent.facts.probes.credentials.settings import Organisation
from agent.facts.probes.credentials.stores.appdata import record
from agent.facts.probes.credentials.stores.appdata_parse import Hit
from agent.facts.probes.credentials.stores.storefiles import read_store_file


def read_parsed(
    ctx: Context,
    scan: ScanState,
    store: str,
    path: str,
    hits: Callable[[str, Organisation], list[Hit]],
) -> None:
    """Read a store file, parse its organisation hits and record them; a bad file is noted."""
    text = read_store_file(ctx, scan, store, path)
    if text is not None:
        record_parsed(scan, store, path, text, hits)


def record_parsed(
    scan: ScanState,
    store: str,
    path: str,
    text: str,
    hits: Callable[[str, Organisation], list[Hit]],
) -> None:
    """Parse a store file's text and record its organisation hits; a bad file is noted."""
    try:
        record(scan, store, path, hits(text, scan.org))
    except ParseError as exc:
        scan.not_read(store, path, str(exc))
