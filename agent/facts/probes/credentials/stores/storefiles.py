"""Shared by the store finders: store folders and small store files, read or noted as not read."""

from __future__ import annotations

import codecs
from collections.abc import Callable

from agent.facts.context import AccessDenied, Context, DirEntry, FactUnavailable, FileMissing
from agent.facts.probes.credentials.per_os import join
from agent.facts.probes.credentials.scan import ScanState

Finder = Callable[[Context, ScanState], None]

# Store files are small; anything bigger is not the file we are looking for.
MAX_STORE_FILE = 1024 * 1024


def why(exc: FactUnavailable) -> str:
    """The reason a store was not read, for NotInspected (a path and a cause, never content)."""
    if isinstance(exc, AccessDenied):
        return f"access denied (needs administrator/root): {exc}"
    return str(exc) or type(exc).__name__


def list_folder(ctx: Context, scan: ScanState, store: str, folder: str) -> list[DirEntry] | None:
    """A store folder's entries; None when it does not exist or could not be listed (noted)."""
    try:
        return ctx.scandir(folder)
    except FileMissing:
        return None
    except FactUnavailable as exc:
        scan.not_read(store, folder, why(exc))
        return None


def decode(data: bytes) -> str:
    """Text of a store file: UTF-16 when it has a UTF-16 byte-order mark, else UTF-8."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", "replace")
    return data.decode("utf-8", "replace").lstrip("\ufeff")


def read_store_file(
    ctx: Context, scan: ScanState, store: str, path: str, limit: int = MAX_STORE_FILE
) -> str | None:
    """A store file's text (at most `limit` bytes); None when absent or unreadable (noted)."""
    try:
        return decode(ctx.read_bytes(path, limit))
    except FileMissing:
        return None
    except FactUnavailable as exc:
        scan.not_read(store, path, why(exc))
        return None


def files_in(
    ctx: Context, scan: ScanState, store: str, folder: str, suffixes: tuple[str, ...]
) -> list[str]:
    """Paths of the regular files in `folder` whose names end with one of `suffixes`."""
    entries = list_folder(ctx, scan, store, folder) or []
    return [
        join(ctx, folder, e.name)
        for e in entries
        if e.kind == "file" and e.name.lower().endswith(suffixes) and e.size <= MAX_STORE_FILE
    ]
