"""FTP/SFTP clients: FileZilla, WinSCP, Cyberduck, CoreFTP and FTP Navigator's saved sites."""

from __future__ import annotations

from collections.abc import Callable

from agent.facts.context import CommandNotFound, Context, FactUnavailable, FileMissing
from agent.facts.probes.credentials.per_os import PerOs, join
from agent.facts.probes.credentials.scan import ScanState
from agent.facts.probes.credentials.settings import Organisation
from agent.facts.probes.credentials.stores.appdata import record
from agent.facts.probes.credentials.stores.appdata_parse import Hit
from agent.facts.probes.credentials.stores.ftp_parse import (
    coreftp_registry_hits,
    cyberduck_config_hits,
    cyberduck_hits,
    filezilla_hits,
    ftp_navigator_hits,
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


def _sessions_script(subkey: str, host: str, user: str, password: str) -> str:
    """Per loaded user hive, each session key under Software\\<subkey>: its host and user
    values and whether a password value is saved (the value never leaves the script)."""
    return (
        r"""
$rows = @(foreach ($user in @(Get-ChildItem -LiteralPath 'Registry::HKEY_USERS' -EA 0)) {
  $root = "Registry::$($user.Name)\Software\__SUBKEY__"
  if (Test-Path -LiteralPath $root) {
    foreach ($key in @(Get-ChildItem -LiteralPath $root -EA 0)) {
      @{ Key = [string]$key.Name; HostName = [string]$key.GetValue('__HOST__');
         UserName = [string]$key.GetValue('__USER__');
         HasPassword = ([string]$key.GetValue('__PASSWORD__')).Length -gt 0 }
    }
  }
})
ConvertTo-Json -Compress -Depth 4 -InputObject @{ Sessions = $rows }
""".replace("__SUBKEY__", subkey)
        .replace("__HOST__", host)
        .replace("__USER__", user)
        .replace("__PASSWORD__", password)
    )


WINSCP_REGISTRY_SCRIPT = _sessions_script(
    r"Martin Prikryl\WinSCP 2\Sessions", "HostName", "UserName", "Password"
)
# CoreFTP (LE and Pro) keeps each site as HKCU\Software\FTPware\CoreFTP\Sites\<n>, its
# password AES-encrypted with a key built into the program in the PW value.
COREFTP_REGISTRY_SCRIPT = _sessions_script(r"FTPware\CoreFTP\Sites", "Host", "User", "PW")
# FTP Navigator keeps its site list on the system drive, where it is installed.
FTP_NAVIGATOR_LIST = "FTP Navigator\\Ftplist.txt"


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
    where = "registry Martin Prikryl\\WinSCP 2\\Sessions"
    _registry_sessions(ctx, scan, "winscp", where, WINSCP_REGISTRY_SCRIPT, winscp_registry_hits)


def find_coreftp(ctx: Context, scan: ScanState) -> None:
    """CoreFTP: sites in every loaded user hive's registry (FTPware\\CoreFTP\\Sites)."""
    where = "registry FTPware\\CoreFTP\\Sites"
    _registry_sessions(ctx, scan, "coreftp", where, COREFTP_REGISTRY_SCRIPT, coreftp_registry_hits)


def _registry_sessions(
    ctx: Context,
    scan: ScanState,
    store: str,
    where: str,
    script: str,
    parse: Callable[[str, Organisation], list[tuple[str, Hit]]],
) -> None:
    try:
        rows = parse(ps_text(ctx, f"{store}_registry", script, timeout=20.0), scan.org)
    except CommandNotFound:
        return
    except FactUnavailable as exc:
        scan.not_read(store, where, why(exc))
        return
    for key, (kind, identity, matched) in rows:
        scan.add(kind, store, key, identity, matched)


def find_ftp_navigator(ctx: Context, scan: ScanState) -> None:
    """FTP Navigator: the organisation servers in its site list, C:\\FTP Navigator\\Ftplist.txt."""
    drive = ctx.env("SystemDrive") or "C:"
    path = join(ctx, drive + "\\", FTP_NAVIGATOR_LIST)
    read_parsed(ctx, scan, "ftp_navigator", path, ftp_navigator_hits)


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
    windows=(
        find_filezilla,
        find_winscp,
        find_cyberduck,
        find_cyberduck_config,
        find_coreftp,
        find_ftp_navigator,
    ),
)
