"""Shell histories: command lines that gave a password to an organisation host (line numbers)."""

from __future__ import annotations

from agent.facts.context import Context
from agent.facts.probes.credentials.per_os import PerOs, join
from agent.facts.probes.credentials.scan import ScanState
from agent.facts.probes.credentials.stores.histories_parse import history_hits
from agent.facts.probes.credentials.stores.storefiles import Finder, read_store_file

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


def find_histories(ctx: Context, scan: ScanState) -> None:
    """Each history line with a password for an organisation host: file, line and tool."""
    for home in scan.homes:
        for relative in HISTORIES.pick(ctx):
            path = join(ctx, home.path, relative)
            text = read_store_file(ctx, scan, "shell_history", path, scan.settings.max_file_bytes)
            for hit in history_hits(text or "", scan.org):
                identity = f"{hit.host} ({hit.tool})"
                location = f"{path} line {hit.line}"
                scan.add("password_in_history", "shell_history", location, identity, hit.org_match)


FINDERS: PerOs[tuple[Finder, ...]] = PerOs(
    linux=(find_histories,), darwin=(find_histories,), windows=(find_histories,)
)
