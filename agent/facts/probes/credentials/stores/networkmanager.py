"""NetworkManager Wi-Fi and VPN connections: keyfiles (root), else nmcli without secrets."""

from __future__ import annotations

from agent.facts.context import CommandNotFound, Context, FactUnavailable, FileMissing, ParseError
from agent.facts.probes.base import run_checked
from agent.facts.probes.credentials.per_os import PerOs, join
from agent.facts.probes.credentials.scan import ScanState
from agent.facts.probes.credentials.stores.networkmanager_parse import (
    NmConnection,
    parse_nm_keyfile,
    parse_nmcli_connections,
    parse_nmcli_details,
)
from agent.facts.probes.credentials.stores.storefiles import MAX_STORE_FILE, Finder, decode, why
from agent.facts.probes.credentials.stores.vpn_parse import host_matches
from agent.facts.probes.credentials.stores.wifi_parse import WifiProfile, wifi_matches

STORE = "networkmanager"
KEYFILE_FOLDERS = (
    "/etc/NetworkManager/system-connections",
    "/run/NetworkManager/system-connections",
)
_IGNORED = ("~", ".swp", ".bak", ".tmp", ".orig", ".rej", ".rpmnew", ".rpmsave", ".dpkg-old")

_WIFI_TYPES = {"wifi", "802-11-wireless"}
WIFI_FIELDS = (
    "802-11-wireless.ssid,802-1x.identity,802-1x.anonymous-identity,802-1x.domain-suffix-match"
)
VPN_FIELDS = "vpn.service-type,vpn.data"


def report(scan: ScanState, location: str, conn: NmConnection, wifi: bool = True) -> None:
    if wifi and conn.type in _WIFI_TYPES:
        profile = WifiProfile(conn.name, conn.ssid, conn.identities, conn.servers)
        for kind, identity, matched in wifi_matches(profile, scan.org):
            scan.add(kind, STORE, location, identity, matched)
    for host, matched in host_matches(list(conn.vpn_hosts), scan.org):
        scan.add("vpn_profile", STORE, location, host, matched)


def _from_nmcli(ctx: Context, scan: ScanState, seen: set[str]) -> None:
    """Connections NetworkManager serves to this user, minus those read from files already."""
    listing = run_checked(ctx, ["nmcli", "-t", "-f", "NAME,UUID,TYPE", "connection", "show"])
    for name, uuid, kind in parse_nmcli_connections(listing):
        if uuid in seen or (kind not in _WIFI_TYPES and kind != "vpn") or scan.out_of_time():
            continue
        fields = VPN_FIELDS if kind == "vpn" else WIFI_FIELDS
        argv = ["nmcli", "-t", "-f", fields, "connection", "show", uuid]
        details = parse_nmcli_details(name, uuid, kind, run_checked(ctx, argv))
        report(scan, f"NetworkManager connection {name}", details)


def find_networkmanager(ctx: Context, scan: ScanState) -> None:
    """Keyfiles in /etc and /run (root only); when they are closed, ask nmcli (never -s)."""
    denied: list[tuple[str, FactUnavailable]] = []
    seen: set[str] = set()
    for folder in KEYFILE_FOLDERS:
        try:
            entries = ctx.scandir(folder)
        except FileMissing:
            continue
        except FactUnavailable as refused:
            denied.append((folder, refused))
            continue
        for entry in entries:
            if entry.kind != "file" or entry.name.startswith(".") or entry.name.endswith(_IGNORED):
                continue
            path = join(ctx, folder, entry.name)
            try:
                conn = parse_nm_keyfile(decode(ctx.read_bytes(path, MAX_STORE_FILE)))
            except ParseError:
                continue
            except FactUnavailable as unreadable:
                denied.append((path, unreadable))
                continue
            seen.add(conn.uuid)
            # /run's netplan-*.nmconnection are generated from /etc/netplan (see find_netplan)
            report(scan, path, conn, wifi=not entry.name.startswith("netplan-"))
    if not denied:
        return
    try:
        _from_nmcli(ctx, scan, seen)
    except CommandNotFound:
        for location, exc in denied:
            scan.not_read(STORE, location, why(exc))
    except FactUnavailable as exc:
        for location, first in denied:
            scan.not_read(STORE, location, f"{why(first)}; nmcli: {exc}")


# NetworkManager is a Linux service: there is nothing of it to read elsewhere.
FINDERS: PerOs[tuple[Finder, ...]] = PerOs(linux=(find_networkmanager,), darwin=(), windows=())
