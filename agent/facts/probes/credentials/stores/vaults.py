"""Password vaults: KeePass databases named for the organisation, password exports."""

from __future__ import annotations

import re

from agent.facts.context import Context
from agent.facts.probes.credentials.per_os import PerOs, join
from agent.facts.probes.credentials.scan import ScanState
from agent.facts.probes.credentials.settings import Organisation
from agent.facts.probes.credentials.stores.appdata_parse import Hit
from agent.facts.probes.credentials.stores.readers import read_parsed
from agent.facts.probes.credentials.stores.storefiles import (
    Finder,
    files_in,
    read_store_file,
)
from agent.facts.probes.credentials.stores.vaults_parse import export_hits, kdbx_paths, named_for

# Where people keep (and browsers save) vaults and exports: the home and its usual folders.
PERSONAL_FOLDERS = ("", "Documents", "Desktop", "Downloads")
# KeePassXC's settings and KeePass 2's configuration: the databases they opened last.
KEEPASS_SETTINGS: PerOs[tuple[str, ...]] = PerOs(
    linux=(
        ".config/keepassxc/keepassxc.ini",
        ".cache/keepassxc/keepassxc.ini",
        ".config/KeePass/KeePass.config.xml",
    ),
    darwin=("Library/Application Support/KeePassXC/keepassxc.ini",),
    windows=(
        "AppData/Roaming/KeePassXC/keepassxc.ini",
        "AppData/Local/KeePassXC/keepassxc.ini",
        "AppData/Roaming/KeePass/KeePass.config.xml",
    ),
)


def find_keepass(ctx: Context, scan: ScanState) -> None:
    """KeePass databases (.kdbx) named for the organisation, in the home's usual folders or
    remembered by KeePassXC or KeePass 2 as recently opened. The database itself is never opened."""
    for home in scan.homes:
        paths: list[str] = []
        for folder in PERSONAL_FOLDERS:
            root = join(ctx, home.path, folder) if folder else home.path
            paths += files_in(ctx, scan, "keepass", root, (".kdbx", ".kdb"))
        for relative in KEEPASS_SETTINGS.pick(ctx):
            text = read_store_file(ctx, scan, "keepass", join(ctx, home.path, relative))
            paths += kdbx_paths(text or "")
        for path in dict.fromkeys(paths):
            name = re.split(r"[/\\]", path)[-1]
            if matched := named_for(name, scan.org):
                scan.add("password_vault", "keepass", path, name, matched)


def _export_hits(text: str, org: Organisation) -> list[Hit]:
    return export_hits(text, org) or []


def find_password_exports(ctx: Context, scan: ScanState) -> None:
    """Password-manager exports (CSV with URL and password columns) holding organisation sites."""
    for home in scan.homes:
        for folder in PERSONAL_FOLDERS:
            root = join(ctx, home.path, folder) if folder else home.path
            for path in files_in(ctx, scan, "password_export", root, (".csv",)):
                read_parsed(ctx, scan, "password_export", path, _export_hits)


FINDERS: PerOs[tuple[Finder, ...]] = PerOs(
    linux=(find_keepass, find_password_exports),
    darwin=(find_keepass, find_password_exports),
    windows=(find_keepass, find_password_exports),
)
