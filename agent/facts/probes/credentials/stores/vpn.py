"""VPN profiles pointing at the organisation: OpenVPN, AnyConnect, GlobalProtect, WireGuard, RAS."""

from __future__ import annotations

from dataclasses import dataclass

from agent.facts.context import CommandNotFound, Context, FactUnavailable, FileMissing, ParseError
from agent.facts.probes.credentials.per_os import PerOs, join
from agent.facts.probes.credentials.scan import ScanState
from agent.facts.probes.credentials.stores.storefiles import (
    MAX_STORE_FILE,
    Finder,
    files_in,
    list_folder,
    read_store_file,
    why,
)
from agent.facts.probes.credentials.stores.vpn_parse import (
    host_matches,
    openvpn_gui_hits,
    parse_anyconnect_hosts,
    parse_gp_registry,
    parse_openvpn_remotes,
    parse_rasphone,
    parse_wireguard_endpoints,
    parse_xml_hosts,
    plist_strings,
)
from agent.facts.probes.powershell import ps_text

Folder = tuple[str, tuple[str, ...], int]  # path, file suffixes, sub-folder depth
OVPN = (".ovpn",)
OVPN_CONF = (".ovpn", ".conf")
# The OpenVPN clients' profile folders below every home (besides the home itself and
# Downloads, where downloaded profiles sit), then the machine's own.
OPENVPN_HOME_FOLDERS: PerOs[tuple[Folder, ...]] = PerOs(
    linux=((".config/openvpn", OVPN_CONF, 1), (".openvpn", OVPN_CONF, 1)),
    darwin=(
        ("Library/Application Support/Tunnelblick/Configurations", OVPN_CONF, 1),
        ("Library/Application Support/OpenVPN Connect/profiles", OVPN, 0),
    ),
    windows=(
        ("OpenVPN/config", OVPN_CONF, 1),
        ("AppData/Roaming/OpenVPN Connect/profiles", OVPN, 0),
    ),
)
OPENVPN_SYSTEM_FOLDERS: PerOs[tuple[Folder, ...]] = PerOs(
    linux=(("/etc/openvpn", OVPN_CONF, 1),),
    darwin=(("/Library/Application Support/Tunnelblick/Shared", OVPN_CONF, 1),),
    windows=(("C:\\Program Files\\OpenVPN\\config", OVPN_CONF, 1),),
)


@dataclass(frozen=True)
class AnyConnectFiles:
    """Where Cisco AnyConnect / Secure Client keeps what names its gateways."""

    home_files: tuple[str, ...]  # user preferences, below every home
    system_files: tuple[str, ...]  # the machine's preferences
    profile_folders: tuple[str, ...]  # the VPN profiles (*.xml) pushed by the organisation


_CISCO = ("Cisco AnyConnect Secure Mobility Client", "Cisco Secure Client")
_ANYCONNECT_UNIX = AnyConnectFiles(
    home_files=(".anyconnect",),
    system_files=(),
    profile_folders=("/opt/cisco/anyconnect/profile", "/opt/cisco/secureclient/vpn/profile"),
)
ANYCONNECT = PerOs(
    linux=_ANYCONNECT_UNIX,
    darwin=_ANYCONNECT_UNIX,
    windows=AnyConnectFiles(
        home_files=tuple(f"AppData/Local/Cisco/{name}/preferences.xml" for name in _CISCO),
        system_files=tuple(f"C:\\ProgramData\\Cisco\\{n}\\preferences_global.xml" for n in _CISCO),
        profile_folders=(
            f"C:\\ProgramData\\Cisco\\{_CISCO[0]}\\Profile",
            f"C:\\ProgramData\\Cisco\\{_CISCO[1]}\\VPN\\Profile",
        ),
    ),
)
WIREGUARD_FOLDERS = PerOs(
    linux=("/etc/wireguard",),
    darwin=("/etc/wireguard", "/usr/local/etc/wireguard", "/opt/homebrew/etc/wireguard"),
    windows=("C:\\Program Files\\WireGuard\\Data\\Configurations",),
)
GP_PLIST = "com.paloaltonetworks.GlobalProtect.settings.plist"
RASPHONE = "Microsoft/Network/Connections/Pbk/rasphone.pbk"


def report_hosts(scan: ScanState, store: str, location: str, hosts: list[str]) -> None:
    for host, matched in host_matches(hosts, scan.org):
        scan.add("vpn_profile", store, location, host, matched)


def _openvpn_folders(ctx: Context, scan: ScanState) -> list[Folder]:
    """Where OpenVPN profiles are kept, in the order they are read."""
    folders: list[Folder] = []
    for home in scan.homes:
        folders += [(home.path, OVPN, 0), (join(ctx, home.path, "Downloads"), OVPN, 0)]
        folders += [
            (join(ctx, home.path, relative), suffixes, depth)
            for relative, suffixes, depth in OPENVPN_HOME_FOLDERS.pick(ctx)
        ]
    return folders + list(OPENVPN_SYSTEM_FOLDERS.pick(ctx))


def _profile_paths(
    ctx: Context, scan: ScanState, folder: str, suffixes: tuple[str, ...], depth: int
) -> list[str]:
    """Profile files in a folder, its sub-folders to `depth`, and Tunnelblick .tblk bundles."""
    paths: list[str] = []
    for entry in list_folder(ctx, scan, "openvpn", folder) or []:
        path = join(ctx, folder, entry.name)
        if entry.kind == "file" and entry.name.lower().endswith(suffixes):
            if entry.size <= MAX_STORE_FILE:
                paths.append(path)
        elif entry.kind == "dir" and entry.name.endswith(".tblk"):
            paths.append(join(ctx, path, "Contents", "Resources", "config.ovpn"))
        elif entry.kind == "dir" and depth > 0 and not entry.name.startswith("."):
            paths += _profile_paths(ctx, scan, path, suffixes, depth - 1)
    return paths


def find_openvpn(ctx: Context, scan: ScanState) -> None:
    """`remote` hosts of OpenVPN profiles in the usual client folders and Downloads."""
    for folder, suffixes, depth in _openvpn_folders(ctx, scan):
        for path in _profile_paths(ctx, scan, folder, suffixes, depth):
            if scan.out_of_time():
                return
            text = read_store_file(ctx, scan, "openvpn", path)
            if text is not None:
                report_hosts(scan, "openvpn", path, parse_openvpn_remotes(text))


# Per loaded user hive, each OpenVPN GUI connection with a saved user name (REG_BINARY,
# UTF-16LE): the name, and whether a password (auth-data, DPAPI-sealed) is saved beside it.
OPENVPN_GUI_SCRIPT = r"""
$rows = @(foreach ($user in @(Get-ChildItem -LiteralPath 'Registry::HKEY_USERS' -EA 0)) {
  $root = "Registry::$($user.Name)\Software\OpenVPN-GUI\configs"
  if (Test-Path -LiteralPath $root) {
    foreach ($key in @(Get-ChildItem -LiteralPath $root -EA 0)) {
      $name = $key.GetValue('username')
      if ($name -is [byte[]]) { $name = [Text.Encoding]::Unicode.GetString($name).TrimEnd([char]0) }
      if ([string]$name) {
        @{ Key = [string]$key.Name; HostName = [string]$key.PSChildName; UserName = [string]$name;
           HasPassword = @($key.GetValueNames()) -contains 'auth-data' }
      }
    }
  }
})
ConvertTo-Json -Compress -Depth 4 -InputObject @{ Sessions = $rows }
"""


def find_openvpn_gui(ctx: Context, scan: ScanState) -> None:
    """OpenVPN GUI: the user names it saved per connection in every loaded user hive."""
    try:
        text = ps_text(ctx, "openvpn_gui_registry", OPENVPN_GUI_SCRIPT, timeout=20.0)
        rows = openvpn_gui_hits(text, scan.org)
    except CommandNotFound:
        return
    except FactUnavailable as exc:
        scan.not_read("openvpn", "registry OpenVPN-GUI\\configs", why(exc))
        return
    for key, (kind, identity, matched) in rows:
        scan.add(kind, "openvpn", key, identity, matched)


def find_anyconnect(ctx: Context, scan: ScanState) -> None:
    """Cisco AnyConnect / Secure Client: user preferences and the VPN profiles' host entries."""
    places = ANYCONNECT.pick(ctx)
    paths = [join(ctx, home.path, name) for home in scan.homes for name in places.home_files]
    paths += places.system_files
    for folder in places.profile_folders:
        paths += files_in(ctx, scan, "anyconnect", folder, (".xml",))
    for path in paths:
        text = read_store_file(ctx, scan, "anyconnect", path)
        try:
            hosts = parse_anyconnect_hosts(text) if text is not None else []
        except ParseError:
            continue
        report_hosts(scan, "anyconnect", path, hosts)


GP_REGISTRY_SCRIPT = r"""
$roots = @('HKLM:\SOFTWARE\Palo Alto Networks\GlobalProtect')
foreach ($user in @(Get-ChildItem -LiteralPath 'Registry::HKEY_USERS' -EA 0)) {
  $roots += "Registry::$($user.Name)\Software\Palo Alto Networks\GlobalProtect"
}
$keys = @(foreach ($root in $roots) {
  if (Test-Path -LiteralPath $root) {
    $tree = @(Get-Item -LiteralPath $root) + @(Get-ChildItem -LiteralPath $root -Recurse -EA 0)
    foreach ($key in $tree) {
      $values = @([string]$key.PSChildName)
      foreach ($name in @('Portal', 'LastUrl', 'Last Url')) {
        $value = $key.GetValue($name)
        if ($value -is [string]) { $values += $value }
      }
      @{ Key = [string]$key.Name; Values = $values }
    }
  }
})
ConvertTo-Json -Compress -Depth 4 -InputObject @{ Keys = $keys }
"""


def _globalprotect_registry(ctx: Context, scan: ScanState) -> None:
    """Windows: the portals in the machine's and every loaded user hive's GlobalProtect keys."""
    try:
        text = ps_text(ctx, "globalprotect_registry", GP_REGISTRY_SCRIPT, timeout=20.0)
        rows = parse_gp_registry(text)
    except CommandNotFound:
        return
    except FactUnavailable as exc:
        scan.not_read("globalprotect", "registry Palo Alto Networks\\GlobalProtect", why(exc))
        return
    for key, value in rows:
        report_hosts(scan, "globalprotect", key, [value])


def _globalprotect_xml(ctx: Context, scan: ScanState) -> None:
    """Linux: the portals the client saved in pangps.xml."""
    path = "/opt/paloaltonetworks/globalprotect/pangps.xml"
    text = read_store_file(ctx, scan, "globalprotect", path)
    if text is not None:
        report_hosts(scan, "globalprotect", path, parse_xml_hosts(text))


def _globalprotect_plists(ctx: Context, scan: ScanState) -> None:
    """macOS: the portals in the machine's and every home's GlobalProtect settings plist."""
    paths = ["/Library/Preferences/" + GP_PLIST]
    paths += [join(ctx, h.path, "Library", "Preferences", GP_PLIST) for h in scan.homes]
    for path in paths:
        try:
            strings = plist_strings(ctx.read_bytes(path, MAX_STORE_FILE))
        except FileMissing:
            continue
        except FactUnavailable as exc:
            scan.not_read("globalprotect", path, why(exc))
            continue
        report_hosts(scan, "globalprotect", path, strings)


GLOBALPROTECT: PerOs[Finder] = PerOs(
    linux=_globalprotect_xml, darwin=_globalprotect_plists, windows=_globalprotect_registry
)


def find_globalprotect(ctx: Context, scan: ScanState) -> None:
    """GlobalProtect portals: registry (Windows), settings plists (macOS), pangps.xml (Linux)."""
    GLOBALPROTECT.pick(ctx)(ctx, scan)


def find_wireguard(ctx: Context, scan: ScanState) -> None:
    """WireGuard tunnels' peer endpoints; Windows keeps them DPAPI-encrypted (not readable)."""
    for folder in WIREGUARD_FOLDERS.pick(ctx):
        for path in files_in(ctx, scan, "wireguard", folder, (".conf", ".conf.dpapi")):
            if path.endswith(".dpapi"):
                scan.not_read("wireguard", path, "encrypted by WireGuard (DPAPI): endpoint unknown")
                continue
            text = read_store_file(ctx, scan, "wireguard", path)
            if text is not None:
                report_hosts(scan, "wireguard", path, parse_wireguard_endpoints(text))


def find_rasphone(ctx: Context, scan: ScanState) -> None:
    """Windows built-in VPN entries: the per-user and all-users RAS phonebooks."""
    paths = [join(ctx, h.path, "AppData/Roaming", RASPHONE) for h in scan.homes]
    paths.append(join(ctx, "C:\\ProgramData", RASPHONE))
    for path in paths:
        text = read_store_file(ctx, scan, "rasphone", path)
        for _, server in parse_rasphone(text or ""):
            report_hosts(scan, "rasphone", path, [server])


FINDERS: PerOs[tuple[Finder, ...]] = PerOs(
    linux=(find_openvpn, find_anyconnect, find_globalprotect, find_wireguard),
    darwin=(find_openvpn, find_anyconnect, find_globalprotect, find_wireguard),
    windows=(
        find_openvpn,
        find_openvpn_gui,
        find_anyconnect,
        find_globalprotect,
        find_wireguard,
        find_rasphone,
    ),
)
