"""Remote-desktop managers: mRemoteNG, RDCMan, saved .rdp connections, Remmina, PuTTY CM."""

from __future__ import annotations

import re

from agent.facts.context import CommandNotFound, Context, FactUnavailable, ParseError
from agent.facts.probes.credentials.per_os import PerOs, join
from agent.facts.probes.credentials.scan import ScanState
from agent.facts.probes.credentials.stores.appdata import record
from agent.facts.probes.credentials.stores.readers import read_parsed, record_parsed
from agent.facts.probes.credentials.stores.remote_desktop_parse import (
    mremoteng_hits,
    puttycm_databases,
    puttycm_hits,
    rdg_hits,
    rdp_hits,
    remmina_hits,
)
from agent.facts.probes.credentials.stores.storefiles import (
    Finder,
    files_in,
    list_folder,
    read_store_file,
    why,
)
from agent.facts.probes.powershell import ps_text

MREMOTENG = "AppData/Roaming/mRemoteNG"  # confCons.xml and its dated backups
RDCMAN_SETTINGS = (
    "AppData/Local/Microsoft/Remote Desktop Connection Manager/RDCMan.settings",
    "AppData/Local/Microsoft Corporation/Remote Desktop Connection Manager/RDCMan.settings",
)
# Where .rdp and .rdg files are saved: Documents holds the hidden Default.rdp of mstsc.
CONNECTION_FOLDERS = ("Documents", "Desktop", "Downloads")
# Remmina 1.4+ keeps profiles in XDG data; older ones in ~/.remmina; flatpak in its sandbox.
REMMINA_DIRS = (".local/share/remmina", ".remmina", ".var/app/org.remmina.Remmina/data/remmina")
ENCRYPTED = "mRemoteNG file is fully encrypted: its connections cannot be read"
# RDCMan.settings: <FilesToOpen><item>C:\Users\alice\Documents\uni.rdg</item></FilesToOpen>
_RDG_ITEM = re.compile(r"<item>\s*([^<]+?\.rdg)\s*</item>", re.IGNORECASE)


def find_mremoteng(ctx: Context, scan: ScanState) -> None:
    """mRemoteNG's confCons.xml: organisation hosts, users and domains of its connections."""
    for home in scan.homes:
        folder = join(ctx, home.path, MREMOTENG)
        for entry in list_folder(ctx, scan, "mremoteng", folder) or []:
            if entry.kind == "file" and entry.name.lower().startswith("confcons.xml"):
                _mremoteng_file(ctx, scan, join(ctx, folder, entry.name))


def _mremoteng_file(ctx: Context, scan: ScanState, path: str) -> None:
    text = read_store_file(ctx, scan, "mremoteng", path)
    if text is None:
        return
    try:
        hits = mremoteng_hits(text, scan.org)
    except ParseError as exc:
        scan.not_read("mremoteng", path, str(exc))
        return
    if hits is None:
        scan.not_read("mremoteng", path, ENCRYPTED)
    else:
        record(scan, "mremoteng", path, hits)


def find_rdp_files(ctx: Context, scan: ScanState) -> None:
    """Saved connections (.rdp) and RDCMan groups (.rdg) in the usual folders, and the .rdg
    files RDCMan.settings opens."""
    for home in scan.homes:
        rdg: list[str] = []
        for relative in RDCMAN_SETTINGS:
            path = join(ctx, home.path, relative)
            settings = read_store_file(ctx, scan, "rdcman", path)
            if settings is not None:
                record_parsed(scan, "rdcman", path, settings, rdg_hits)
                rdg += _RDG_ITEM.findall(settings)
        for folder in CONNECTION_FOLDERS:
            for path in files_in(ctx, scan, "rdp", join(ctx, home.path, folder), (".rdp", ".rdg")):
                if path.lower().endswith(".rdp"):
                    read_parsed(ctx, scan, "rdp", path, rdp_hits)
                else:
                    rdg.append(path)
        for path in dict.fromkeys(rdg):
            read_parsed(ctx, scan, "rdcman", path, rdg_hits)


def find_remmina(ctx: Context, scan: ScanState) -> None:
    """Remmina's connection profiles (.remmina) naming an organisation server or account."""
    for home in scan.homes:
        for relative in REMMINA_DIRS:
            folder = join(ctx, home.path, relative)
            for path in files_in(ctx, scan, "remmina", folder, (".remmina",)):
                read_parsed(ctx, scan, "remmina", path, remmina_hits)


# Per loaded user hive: the database PuTTY Connection Manager opens (DefaultDatabase).
PUTTYCM_SCRIPT = r"""
$paths = @(foreach ($user in @(Get-ChildItem -LiteralPath 'Registry::HKEY_USERS' -EA 0)) {
  $key = "Registry::$($user.Name)\Software\ACS\PuTTY Connection Manager"
  if (Test-Path -LiteralPath $key) {
    [string](Get-Item -LiteralPath $key).GetValue('DefaultDatabase')
  }
})
ConvertTo-Json -Compress -Depth 3 -InputObject @{ Databases = $paths }
"""


def find_puttycm(ctx: Context, scan: ScanState) -> None:
    """PuTTY Connection Manager: organisation connections in the database it opens."""
    try:
        paths = puttycm_databases(ps_text(ctx, "puttycm_registry", PUTTYCM_SCRIPT, timeout=20.0))
    except CommandNotFound:
        return
    except FactUnavailable as exc:
        scan.not_read("puttycm", "registry ACS\\PuTTY Connection Manager", why(exc))
        return
    for path in dict.fromkeys(paths):
        read_parsed(ctx, scan, "puttycm", path, puttycm_hits)


FINDERS: PerOs[tuple[Finder, ...]] = PerOs(
    linux=(find_remmina,),
    darwin=(),
    windows=(find_mremoteng, find_rdp_files, find_puttycm),
)
