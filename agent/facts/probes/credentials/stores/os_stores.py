"""OS credential stores: Windows Credential Manager, macOS keychains, Linux Secret Service."""

from __future__ import annotations

import re
from typing import Any

from agent.facts.context import CommandNotFound, Context, FactUnavailable
from agent.facts.probes.base import CommandFailed, first_line, run_checked
from agent.facts.probes.credentials.per_os import PerOs, join
from agent.facts.probes.credentials.scan import ScanState
from agent.facts.probes.credentials.stores.appdata import Finder, listing
from agent.facts.probes.credentials.stores.os_stores_parse import (
    HASHED,
    credential_hits,
    keychain_hits,
    parse_bus_reply,
    parse_cmdkey,
    parse_credman,
    parse_keychain_dump,
    secret_item_hits,
)
from agent.facts.probes.powershell import PS_PART, ps_json

# CredEnumerateW through P/Invoke: locale-proof, and only TargetName and UserName are copied
# out of each CREDENTIAL; its CredentialBlob pointer is never followed. `cmdkey /list` (localised
# text) is the fallback where Add-Type is not allowed (constrained language mode).
CREDMAN_SCRIPT = (
    PS_PART
    + r"""
$out = @{}
$out.creds = Part {
  Add-Type -TypeDefinition @'
using System; using System.Collections.Generic; using System.Runtime.InteropServices;
public static class OutpostCredTargets {
  [StructLayout(LayoutKind.Sequential, CharSet = CharSet.Unicode)]
  struct Credential { public int Flags; public int Type; public IntPtr TargetName;
    public IntPtr Comment; public System.Runtime.InteropServices.ComTypes.FILETIME LastWritten;
    public int BlobSize; public IntPtr Blob; public int Persist; public int AttributeCount;
    public IntPtr Attributes; public IntPtr TargetAlias; public IntPtr UserName; }
  [DllImport("advapi32.dll", EntryPoint = "CredEnumerateW", CharSet = CharSet.Unicode,
    SetLastError = true)]
  static extern bool CredEnumerate(string filter, int flags, out int count, out IntPtr list);
  [DllImport("advapi32.dll")] static extern void CredFree(IntPtr buffer);
  public static List<string[]> Read() {
    int count; IntPtr list; var rows = new List<string[]>();
    if (!CredEnumerate(null, 1, out count, out list)) {
      int error = Marshal.GetLastWin32Error();
      if (error == 1168) { return rows; }
      throw new System.ComponentModel.Win32Exception(error); }
    try { for (int i = 0; i < count; i++) {
      var c = (Credential)Marshal.PtrToStructure(Marshal.ReadIntPtr(list, i * IntPtr.Size),
        typeof(Credential));
      rows.Add(new string[] { Marshal.PtrToStringUni(c.TargetName),
        Marshal.PtrToStringUni(c.UserName), c.Type.ToString() }); } }
    finally { CredFree(list); }
    return rows; } }
'@
  @([OutpostCredTargets]::Read() | ForEach-Object {
    @{ Target = $_[0]; User = $_[1]; Type = $_[2] } })
}
ConvertTo-Json -Compress -Depth 5 -InputObject $out
"""
)
BUSCTL = ("busctl", "--user", "--json=short", "--auto-start=no", "call", "org.freedesktop.secrets")
_PROPERTIES = "org.freedesktop.DBus.Properties"
# GNOME Keyring and KDE Wallet (KDE 5 and 4) files: noted as not inspected only when the
# session's Secret Service (which both provide) could not be read.
_KEYRING_FILES = (
    (".local/share/keyrings", ".keyring"),
    (".local/share/kwalletd", ".kwl"),
    (".kde4/share/apps/kwallet", ".kwl"),
    (".kde/share/apps/kwallet", ".kwl"),
)


def _bus(ctx: Context, path: str, method: str, *args: str) -> Any:
    try:
        reply = run_checked(ctx, [*BUSCTL, path, _PROPERTIES, method, *args], timeout=10.0)
    except CommandFailed as exc:
        # busctl's own first line is the message: callers put it in their words.
        raise FactUnavailable(first_line(exc.stderr) or f"busctl exited {exc.returncode}") from exc
    return parse_bus_reply(reply)


def _collection(ctx: Context, scan: ScanState, path: str) -> None:
    props = _bus(ctx, path, "GetAll", "s", "org.freedesktop.Secret.Collection")
    name, items, hidden = str(props.get("Label") or path), props.get("Items") or [], 0
    for item in items:
        if scan.out_of_time():
            return
        try:
            got = _bus(ctx, str(item), "GetAll", "s", "org.freedesktop.Secret.Item")
        except FactUnavailable:
            hidden += 1
            continue
        label, raw = str(got.get("Label") or ""), got.get("Attributes")
        attributes = {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}
        if not label and any(k.startswith(HASHED) for k in attributes):
            hidden += 1
        for kind, identity, matched in secret_item_hits(label, attributes, scan.org):
            scan.add(kind, "secret_service", f"{name}: {label or item}", identity, matched)
    if hidden or (props.get("Locked") is True and not items):
        count = f"{hidden} item(s)" if hidden else "its items"
        reason = f"locked: {count} hidden until the user unlocks it"
        scan.not_read("secret_service", name, reason)


def _session_keyring(ctx: Context, scan: ScanState) -> str | None:
    """Read the session's Secret Service; why it could not be, when it could not."""
    try:
        service = ("org.freedesktop.Secret.Service", "Collections")
        collections = _bus(ctx, "/org/freedesktop/secrets", "Get", "ss", *service)
    except CommandNotFound:
        return "busctl is not installed"
    except FactUnavailable as exc:
        return f"no Secret Service in this session ({exc})"
    for path in collections or []:
        try:
            _collection(ctx, scan, str(path))
        except FactUnavailable as exc:
            scan.not_read("secret_service", str(path), str(exc))
    return None


def find_secret_service(ctx: Context, scan: ScanState) -> None:
    """Secret Service (GNOME Keyring, KWallet, KeePassXC) item labels and attributes via busctl.

    Only the Properties interface is called: never GetSecret, never Unlock (no prompt). Other
    users' keyrings (files on disk) are noted as not inspected.
    """
    own = (ctx.env("HOME") or "").rstrip("/")
    for home in scan.homes:
        if home.path.rstrip("/") == own:
            why = _session_keyring(ctx, scan)
        else:
            why = "another user's keyring: readable only in that user's session"
        for folder, suffix in _KEYRING_FILES:
            if why is None:
                break
            path = join(ctx, home.path, folder)
            names = listing(ctx, scan, "secret_service", path) or {}
            if any(name.endswith(suffix) for name in names):
                scan.not_read("secret_service", path, why)


def find_keychains(ctx: Context, scan: ScanState) -> None:
    """macOS keychains: every home's login keychain and the System keychain, attributes only."""
    keychains = ["/Library/Keychains/System.keychain"]
    for home in scan.homes:
        folder = join(ctx, home.path, "Library/Keychains")
        for name, kind in sorted((listing(ctx, scan, "keychain", folder) or {}).items()):
            if (
                kind == "file"
                and name.endswith((".keychain", ".keychain-db"))
                and not name.startswith("metadata.")
            ):
                keychains.append(join(ctx, folder, name))
            elif kind == "dir" and re.fullmatch(r"[0-9A-F-]{36}", name):
                reason = "data-protection (iCloud) keychain: not readable with `security`"
                scan.not_read("keychain", join(ctx, folder, name), reason)
    for path in keychains:
        if scan.out_of_time():
            return
        try:
            dump = run_checked(ctx, ["security", "dump-keychain", path], timeout=30.0)
        except FactUnavailable as exc:
            scan.not_read("keychain", path, str(exc))
            continue
        for kind, identity, matched in keychain_hits(parse_keychain_dump(dump), scan.org):
            scan.add(kind, "keychain", path, identity, matched)


def find_credential_manager(ctx: Context, scan: ScanState) -> None:
    """Windows Credential Manager targets of the signed-in user; other users' vaults noted."""
    own = (ctx.env("USERPROFILE") or "").rstrip("\\").lower()
    for home in scan.homes:
        if home.path.rstrip("\\").lower() == own:
            _own_credentials(ctx, scan)
            continue
        for relative in (
            "AppData/Roaming/Microsoft/Credentials",
            "AppData/Local/Microsoft/Credentials",
        ):
            folder = join(ctx, home.path, relative)
            if listing(ctx, scan, "credential_manager", folder):
                why = "another user's Credential Manager: readable only in that user's session"
                scan.not_read("credential_manager", folder, why)


def _own_credentials(ctx: Context, scan: ScanState) -> None:
    try:
        entries = parse_credman(ps_json(ctx, "credentials-credman", CREDMAN_SCRIPT, 40.0))
    except FactUnavailable as exc:
        try:
            entries = parse_cmdkey(run_checked(ctx, ["cmdkey", "/list"], timeout=15.0))
        except FactUnavailable as fallback:
            scan.not_read("credential_manager", "Credential Manager", f"{exc}; {fallback}")
            return
    for target, (kind, identity, matched) in credential_hits(entries, scan.org):
        scan.add(kind, "credential_manager", target, identity, matched)


FINDERS: PerOs[tuple[Finder, ...]] = PerOs(
    linux=(find_secret_service,),
    darwin=(find_keychains,),
    windows=(find_credential_manager,),
)
