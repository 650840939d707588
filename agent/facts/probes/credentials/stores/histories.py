"""Shell histories: command lines that gave a password to an organisation host (line numbers)."""

from __future__ import annotations

from agent.facts.context import Context, FactUnavailable, FileMissing
from agent.facts.probes.credentials.per_os import PerOs, join
from agent.facts.probes.credentials.scan import ScanState
from agent.facts.probes.credentials.stores.histories_parse import history_hits
from agent.facts.probes.credentials.stores.storefiles import Finder, decode, why

_UNIX = (
    ".bash_history",
    ".zsh_history",
    ".zhistory",
    ".sh_history",
    ".history",
    ".local/share/fish/fish_history",
)
HISTORIES: PerOs[tuple[str, ...]] = PerOs(
    linux=_UNIX,
    darwin=_UNIX,
    windows=(
        "AppData/Roaming/Microsoft/Windows/PowerShell/PSReadLine/ConsoleHost_history.txt",
        ".bash_history",  # Git Bash
    ),
)


def _read(ctx: Context, scan: ScanState, path: str) -> str:
    """A history's text ("" when absent); one past the scan's file limit is read up to the
    limit and noted, since its newest lines are the ones left out."""
    limit = scan.settings.max_file_bytes
    try:
        data = ctx.read_bytes(path, limit + 1)
    except FileMissing:
        return ""
    except FactUnavailable as exc:
        scan.not_read("shell_history", path, why(exc))
        return ""
    if len(data) > limit:
        scan.not_read("shell_history", path, f"larger than {limit} bytes: only the start was read")
    return decode(data[:limit])


def find_histories(ctx: Context, scan: ScanState) -> None:
    """Each history line with a password for an organisation host: file, line and tool."""
    for home in scan.homes:
        for relative in HISTORIES.pick(ctx):
            path = join(ctx, home.path, relative)
            for hit in history_hits(_read(ctx, scan, path), scan.org):
                identity = f"{hit.host} ({hit.tool})"
                location = f"{path} line {hit.line}"
                scan.add("password_in_history", "shell_history", location, identity, hit.org_match)


FINDERS: PerOs[tuple[Finder, ...]] = PerOs(
    linux=(find_histories,), darwin=(find_histories,), windows=(find_histories,)
)
