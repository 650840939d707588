"""VPN profiles pointing at the organisation: OpenVPN, AnyConnect, GlobalProtect, WireGuard, RAS."""

from __future__ import annotations

from agent.facts.context import CommandNotFound, Context, FactUnavailable, FileMissing, ParseError
from agent.facts.probes.credentials.scan import ScanState
from agent.facts.probes.credentials.stores.storefiles import (
    MAX_STORE_FILE,
    Finder,
    files_in,
    join,
    list_folder,
    read_store_file,
    why,
)
from agent.facts.probes.credentials.stores.vpn_parse import (
    host_matches,
    parse_anyconnect_hosts,
    parse_gp_registry,
    parse_openvpn_remotes,
    parse_rasphone,
    parse_wireguard_endpoints,
    parse_xml_hosts,
    plist_strings,
)
from agent.facts.probes.powershell import ps_text

PROGRAM_DATA = "C:\\ProgramData"
PROGRAM_FILES = "C:\\Program Files"


def report_hosts(scan: ScanState, store: str, location: str, hosts: list[str]) -> None:
    for host, matched in host_matches(hosts, scan.org):
        scan.add("vpn_profile", store, location, host, matched)


def _openvpn_folders(os_name: str, scan: ScanState) -> list[tuple[str, tuple[str, ...], int]]:
    """(folder, file suffixes, sub-folder depth) where OpenVPN profiles are kept."""
    both = (".ovpn", ".conf")
    folders: list[tuple[str, tuple[str, ...], int]] = []
    for home in scan.homes:
        h = home.path
        folders += [(h, (".ovpn",), 0), (join(os_name, h, "Downloads"), (".ovpn",), 0)]
        if os_name == "linux":
            folders += [(join(os_name, h, ".config", "openvpn"), both, 1)]
            folders += [(join(os_name, h, ".openvpn"), both, 1)]
        elif os_name == "darwin":
            support = join(os_name, h, "Library", "Application Support")
            folders += [(join(os_name, support, "Tunnelblick", "Configurations"), both, 1)]
            folders += [(join(os_name, support, "OpenVPN Connect", "profiles"), (".ovpn",), 0)]
        else:
            folders += [(join(os_name, h, "OpenVPN", "config"), both, 1)]
            roaming = join(os_name, h, "AppData", "Roaming")
            folders += [(join(os_name, roaming, "OpenVPN Connect", "profiles"), (".ovpn",), 0)]
    if os_name == "linux":
        folders.append(("/etc/openvpn", both, 1))
    elif os_name == "darwin":
        folders.append(("/Library/Application Support/Tunnelblick/Shared", both, 1))
    else:
        folders.append((join(os_name, PROGRAM_FILES, "OpenVPN", "config"), both, 1))
    return folders


def _profile_paths(
    ctx: Context, scan: ScanState, folder: str, suffixes: tuple[str, ...], depth: int
) -> list[str]:
    """Profile files in a folder, its sub-folders to `depth`, and Tunnelblick .tblk bundles."""
    paths: list[str] = []
    for entry in list_folder(ctx, scan, "openvpn", folder) or []:
        path = join(ctx.os_name, folder, entry.name)
        if entry.kind == "file" and entry.name.lower().endswith(suffixes):
            if entry.size <= MAX_STORE_FILE:
                paths.append(path)
        elif entry.kind == "dir" and entry.name.endswith(".tblk"):
            paths.append(join(ctx.os_name, path, "Contents", "Resources", "config.ovpn"))
        elif entry.kind == "dir" and depth > 0 and not entry.name.startswith("."):
            paths += _profile_paths(ctx, scan, path, suffixes, depth - 1)
    return paths


def find_openvpn(ctx: Context, scan: ScanState) -> None:
    """`remote` hosts of OpenVPN profiles in the usual client folders and Downloads."""
    for folder, suffixes, depth in _openvpn_folders(ctx.os_name, scan):
        for path in _profile_paths(ctx, scan, folder, suffixes, depth):
            if scan.out_of_time():
                return
            text = read_store_file(ctx, scan, "openvpn", path)
            if text is not None:
                report_hosts(scan, "openvpn", path, parse_openvpn_remotes(text))


def _anyconnect_files(ctx: Context, scan: ScanState) -> list[str]:
    os_name = ctx.os_name
    if os_name == "windows":
        names = ("Cisco AnyConnect Secure Mobility Client", "Cisco Secure Client")
        paths = [
            join(os_name, home.path, "AppData", "Local", "Cisco", name, "preferences.xml")
            for home in scan.homes
            for name in names
        ]
        paths += [join(os_name, PROGRAM_DATA, "Cisco", n, "preferences_global.xml") for n in names]
        folders = [
            join(os_name, PROGRAM_DATA, "Cisco", names[0], "Profile"),
            join(os_name, PROGRAM_DATA, "Cisco", names[1], "VPN", "Profile"),
        ]
    else:
        paths = [join(os_name, home.path, ".anyconnect") for home in scan.homes]
        folders = ["/opt/cisco/anyconnect/profile", "/opt/cisco/secureclient/vpn/profile"]
    for folder in folders:
        paths += files_in(ctx, scan, "anyconnect", folder, (".xml",))
    return paths


def find_anyconnect(ctx: Context, scan: ScanState) -> None:
    """Cisco AnyConnect / Secure Client: user preferences and the VPN profiles' host entries."""
    for path in _anyconnect_files(ctx, scan):
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


def find_globalprotect(ctx: Context, scan: ScanState) -> None:
    """GlobalProtect portals: registry (Windows), settings plists (macOS), pangps.xml (Linux)."""
    if ctx.os_name == "windows":
        try:
            script = GP_REGISTRY_SCRIPT
            rows = parse_gp_registry(ps_text(ctx, "globalprotect_registry", script, timeout=20.0))
        except CommandNotFound:
            return
        except FactUnavailable as exc:
            scan.not_read("globalprotect", "registry Palo Alto Networks\\GlobalProtect", why(exc))
            return
        for key, value in rows:
            report_hosts(scan, "globalprotect", key, [value])
        return
    if ctx.os_name == "linux":
        path = "/opt/paloaltonetworks/globalprotect/pangps.xml"
        text = read_store_file(ctx, scan, "globalprotect", path)
        if text is not None:
            report_hosts(scan, "globalprotect", path, parse_xml_hosts(text))
        return
    name = "com.paloaltonetworks.GlobalProtect.settings.plist"
    paths = ["/Library/Preferences/" + name]
    paths += [join("darwin", h.path, "Library", "Preferences", name) for h in scan.homes]
    for path in paths:
        try:
            strings = plist_strings(ctx.read_bytes(path, MAX_STORE_FILE))
        except FileMissing:
            continue
        except FactUnavailable as exc:
            scan.not_read("globalprotect", path, why(exc))
            continue
        report_hosts(scan, "globalprotect", path, strings)


def find_wireguard(ctx: Context, scan: ScanState) -> None:
    """WireGuard tunnels' peer endpoints; Windows keeps them DPAPI-encrypted (not readable)."""
    if ctx.os_name == "windows":
        folders = [join("windows", PROGRAM_FILES, "WireGuard", "Data", "Configurations")]
    elif ctx.os_name == "darwin":
        folders = ["/etc/wireguard", "/usr/local/etc/wireguard", "/opt/homebrew/etc/wireguard"]
    else:
        folders = ["/etc/wireguard"]
    for folder in folders:
        for path in files_in(ctx, scan, "wireguard", folder, (".conf", ".conf.dpapi")):
            if path.endswith(".dpapi"):
                scan.not_read("wireguard", path, "encrypted by WireGuard (DPAPI): endpoint unknown")
                continue
            text = read_store_file(ctx, scan, "wireguard", path)
            if text is not None:
                report_hosts(scan, "wireguard", path, parse_wireguard_endpoints(text))


def find_rasphone(ctx: Context, scan: ScanState) -> None:
    """Windows built-in VPN entries: the per-user and all-users RAS phonebooks."""
    tail = ("Microsoft", "Network", "Connections", "Pbk", "rasphone.pbk")
    paths = [join("windows", h.path, "AppData", "Roaming", *tail) for h in scan.homes]
    paths.append(join("windows", PROGRAM_DATA, *tail))
    for path in paths:
        text = read_store_file(ctx, scan, "rasphone", path)
        for _, server in parse_rasphone(text or ""):
            report_hosts(scan, "rasphone", path, [server])


FINDERS: dict[str, tuple[Finder, ...]] = {
    "linux": (find_openvpn, find_anyconnect, find_globalprotect, find_wireguard),
    "darwin": (find_openvpn, find_anyconnect, find_globalprotect, find_wireguard),
    "windows": (find_openvpn, find_anyconnect, find_globalprotect, find_wireguard, find_rasphone),
}
