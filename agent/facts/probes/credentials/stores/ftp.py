"""FTP/SFTP clients: FileZilla's site manager and recent servers, WinSCP sessions, Cyberduck."""

from __future__ import annotations

from agent.facts.context import CommandNotFound, Context, FactUnavailable, FileMissing
from agent.facts.probes.credentials.per_os import PerOs, join
from agent.facts.probes.credentials.scan import ScanState
from agent.facts.probes.credentials.stores.appdata import record
from agent.facts.probes.credentials.stores.ftp_parse import (
    cyberduck_config_hits,
    cyberduck_hits,
    filezilla_hits,
    winscp_ini_hits,
    winscp_registry_hits,
)
from agent.facts.probes.credentials.stores.readers import read_parsed
from agent.facts.probes.credentials.stores.storefiles import (
    MAX_STORE_FILE,
    Finder,
    files_in,
    list_folder,
    why,
)
from agent.facts.probes.powershell import ps_text

FILEZILLA_DIRS: PerOs[tuple[str, ...]] = PerOs(
    linux=(".config/filezilla", ".filezilla"),
    darwin=(".config/filezilla",),
    windows=("AppData/Roaming/FileZilla",),
)
FILEZILLA_FILES = ("sitemanager.xml", "recentservers.xml")
CYBERDUCK_DIRS: PerOs[tuple[str, ...]] = PerOs(
    linux=(),
    darwin=(
        "Library/Group Containers/G69SCX94XU.duck/Library/Application Support/duck/Bookmarks",
        "Library/Application Support/Cyberduck/Bookmarks",
    ),
    windows=("AppData/Roaming/Cyberduck/Bookmarks",),
)

# Per loaded user hive: each WinSCP session's host, user and whether a Password value exists
# (its value is never read).
WINSCP_REGISTRY_SCRIPT = r"""
$rows = @(foreach ($user in @(Get-ChildItem -LiteralPath 'Registry::HKEY_USERS' -EA 0)) {
  $root = "Registry::$($user.Name)\Software\Martin Prikryl\WinSCP 2\Sessions"
  if (Test-Path -LiteralPath $root) {
    foreach ($key in @(Get-ChildItem -LiteralPath $root -EA 0)) {
      @{ Key = [string]$key.Name; HostName = [string]$key.GetValue('HostName');
         UserName = [string]$key.GetValue('UserName');
         HasPassword = (@($key.GetValueNames()) -contains 'Password') }
    }
  }
})
ConvertTo-Json -Compress -Depth 4 -InputObject @{ Sessions = $rows }
"""


def find_filezilla(ctx: Context, scan: ScanState) -> None:
    """FileZilla: the site manager's and the recent servers' organisation hosts."""
    for home in scan.homes:
        for folder in FILEZILLA_DIRS.pick(ctx):
            for name in FILEZILLA_FILES:
                path = join(ctx, home.path, folder, name)
                read_parsed(ctx, scan, "filezilla", path, filezilla_hits)


def find_winscp(ctx: Context, scan: ScanState) -> None:
    """WinSCP: sessions in every loaded user hive's registry and in %APPDATA%\\WinSCP.ini."""
    for home in scan.homes:
        path = join(ctx, home.path, "AppData/Roaming/WinSCP.ini")
        read_parsed(ctx, scan, "winscp", path, winscp_ini_hits)
    try:
        text = ps_text(ctx, "winscp_registry", WINSCP_REGISTRY_SCRIPT, timeout=20.0)
        rows = winscp_registry_hits(text, scan.org)
    except CommandNotFound:
        return
    except FactUnavailable as exc:
        scan.not_read("winscp", "registry Martin Prikryl\\WinSCP 2\\Sessions", why(exc))
        return
    for key, (kind, identity, matched) in rows:
        scan.add(kind, "winscp", key, identity, matched)


def find_cyberduck(ctx: Context, scan: ScanState) -> None:
    """Cyberduck and Mountain Duck: every bookmark (.duck) naming an organisation server."""
    for home in scan.homes:
        for folder in CYBERDUCK_DIRS.pick(ctx):
            root = join(ctx, home.path, folder)
            for path in files_in(ctx, scan, "cyberduck", root, (".duck",)):
                try:
                    data = ctx.read_bytes(path, MAX_STORE_FILE)
                    record(scan, "cyberduck", path, cyberduck_hits(data, scan.org))
                except FileMissing:
                    continue
                except FactUnavailable as exc:
                    scan.not_read("cyberduck", path, why(exc))


def find_cyberduck_config(ctx: Context, scan: ScanState) -> None:
    """Cyberduck for Windows: the servers with saved passwords in each version's user.config
    (%APPDATA%\\Cyberduck\\Cyberduck.exe_Url_<hash>\\<version>\\user.config)."""
    for home in scan.homes:
        root = join(ctx, home.path, "AppData/Roaming/Cyberduck")
        for app in list_folder(ctx, scan, "cyberduck", root) or []:
            if app.kind != "dir" or not app.name.lower().startswith("cyberduck"):
                continue
            folder = join(ctx, root, app.name)
            for version in list_folder(ctx, scan, "cyberduck", folder) or []:
                if version.kind == "dir":
                    path = join(ctx, folder, version.name, "user.config")
                    read_parsed(ctx, scan, "cyberduck", path, cyberduck_config_hits)


FINDERS: PerOs[tuple[Finder, ...]] = PerOs(
    linux=(find_filezilla,),
    darwin=(find_filezilla, find_cyberduck),
    windows=(find_filezilla, find_winscp, find_cyberduck, find_cyberduck_config),
)
