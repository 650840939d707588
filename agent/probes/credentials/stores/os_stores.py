"""OS credential stores: Windows Credential Manager, macOS keychains, Linux Secret Service."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from agent.context import CommandNotFound, Context, FactUnavailable, ParseError
from agent.probes.credentials.scan import ScanState, match_realm, match_ssid
from agent.probes.credentials.stores.appdata import Finder, Hit, listing, org_token, under
from agent.probes.windows_common import PS_PART, first_line, obj, opt_str, part, ps_json, ps_list
from agent.scan_settings import Organisation

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
  public static List<string[]> List() {
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
  @([OutpostCredTargets]::List() | ForEach-Object { @{ Target = $_[0]; User = $_[1]; Type = $_[2] } })
}
ConvertTo-Json -Compress -Depth 5 -InputObject $out
"""
)
_CMDKEY_FIELD = re.compile(r"^\s+([^:]+?)\s?:\s(.*)$")  # "    Target: x", French "Cible : x"

BUSCTL = ("busctl", "--user", "--json=short", "--auto-start=no", "call", "org.freedesktop.secrets")
_PROPERTIES = "org.freedesktop.DBus.Properties"
_HASHED = "gkr:compat:hashed:"
_KEYRING_FILES = ((".local/share/keyrings", ".keyring"), (".local/share/kwalletd", ".kwl"))

_KEYCHAIN_ATTR = re.compile(r'^\s+"(acct|svce|srvr)"<\w+>=(.*)$')
_WLAN = re.compile(r"\.wlan\.ssid\.(.+)$")


@dataclass(frozen=True)
class KeychainItem:
    """The naming attributes of one keychain item (`security dump-keychain` without -d)."""

    item_class: str
    attributes: dict[str, str]


def parse_credman(doc: Any) -> list[tuple[str, str | None]]:
    """(target, user) of every Credential Manager entry from the PowerShell JSON.

    Sample: {"creds": {"ok": true, "value": [{"Target": "LegacyGeneric:target=git:https://git.
    example.ac.uk", "User": "ab1234", "Type": "1"}]}}
    """
    entries = []
    for row in ps_list(part(doc, "creds"), "creds"):
        record = obj(row, "credential")
        target = opt_str(record, "Target")
        if target:
            entries.append((target, opt_str(record, "User")))
    return entries


def parse_cmdkey(text: str) -> list[tuple[str, str | None]]:
    """(target, user) from `cmdkey /list`, by layout (the labels are localised).

    Sample:     Target: Domain:target=files.example.ac.uk
                Type: Domain Password
                User: EXAMPLE\\ab1234
    Each entry is an indented block; its first field is the target, its third the user.
    """
    entries, fields = [], []
    for line in [*text.splitlines(), ""]:
        if line.strip():
            if match := _CMDKEY_FIELD.match(line):
                fields.append(match.group(2).strip())
            continue
        if fields:
            entries.append((fields[0], fields[2] if len(fields) > 2 else None))
        fields = []
    return entries


def credential_hits(
    entries: Iterable[tuple[str, str | None]], org: Organisation
) -> list[tuple[str, Hit]]:
    """(target, hit) for entries whose user or target names the organisation.

    Sample: [("Domain:target=files.example.ac.uk", "EXAMPLE\\\\ab1234")] -> identity
    'files.example.ac.uk'.
    """
    hits = []
    for target, user in entries:
        if found := org_token(user, org) or org_token(target, org):
            hits.append((target, ("stored_credential", found[0], found[1])))
    return hits


def _keychain_value(raw: str) -> str | None:
    raw = raw.strip()
    if raw.startswith("0x"):  # 0x6162...  "ab..." : bytes that are not all printable
        try:
            return bytes.fromhex(raw.split()[0][2:]).decode("utf-8", "replace").rstrip("\0")
        except ValueError:
            return None
    if len(raw) < 2 or not raw.startswith('"') or not raw.endswith('"'):
        return None  # <NULL>
    data = bytearray()
    for match in re.finditer(r"\\([0-7]{3})|\\(.)|([^\\]+)", raw[1:-1]):
        octal, escaped, plain = match.groups()
        data += bytes([int(octal, 8)]) if octal else (escaped or plain).encode()
    return data.decode("utf-8", "replace")


def parse_keychain_dump(text: str) -> list[KeychainItem]:
    """Items of `security dump-keychain` (no -d: no secret is printed), acct/svce/srvr only.

    Sample: keychain: "/Users/alice/Library/Keychains/login.keychain-db"
            class: "inet"
            attributes:
                "acct"<blob>="ab1234@example.ac.uk"
                "srvr"<blob>="idp.example.ac.uk"
    """
    items: list[KeychainItem] = []
    for line in text.splitlines():
        if line.startswith("class: "):
            items.append(KeychainItem(line[7:].strip().strip('"'), {}))
        elif items and (match := _KEYCHAIN_ATTR.match(line)):
            value = _keychain_value(match.group(2))
            if value:
                items[-1].attributes[match.group(1)] = value
    return items


def keychain_hits(items: Iterable[KeychainItem], org: Organisation) -> list[Hit]:
    """Organisation logins, Wi-Fi passwords and 802.1X identities among keychain items.

    Sample: KeychainItem("genp", {"svce": "com.apple.network.eap.user.item.wlan.ssid.eduroam",
    "acct": "ab1234@example.ac.uk"}) -> ("wifi_profile", "ab1234@example.ac.uk", "example.ac.uk").
    """
    hits = []
    for item in items:
        acct, svce = item.attributes.get("acct"), item.attributes.get("svce", "")
        wlan = _WLAN.search(svce)
        ssid = wlan.group(1) if wlan else acct if svce == "AirPort" else None
        found = org_token(acct, org)
        if ssid is not None:
            if found or (found := _ssid(ssid, org)):
                hits.append(("wifi_profile", *found))
            continue
        found = found or org_token(item.attributes.get("srvr"), org) or org_token(svce, org)
        if found:
            hits.append(("saved_login" if item.item_class == "inet" else "stored_credential", *found))
    return hits


def _ssid(ssid: str, org: Organisation) -> tuple[str, str] | None:
    matched = match_ssid(ssid, org)
    return (ssid, matched) if matched else None


def parse_bus_reply(text: str) -> Any:
    """The first value of a `busctl --json=short call` reply, variants unwrapped.

    Sample: {"type":"a{sv}","data":[{"Label":{"type":"s","data":"Login"},"Locked":{"type":"b",
    "data":false}}]} -> {"Label": "Login", "Locked": False}
    """
    try:
        reply = json.loads(text)
        value = reply["data"][0]
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise ParseError(f"busctl printed an unexpected reply: {text[:60]!r}") from exc
    if isinstance(value, dict) and set(value) == {"type", "data"}:
        value = value["data"]
    if isinstance(value, dict):
        return {
            k: v["data"] if isinstance(v, dict) and set(v) == {"type", "data"} else v
            for k, v in value.items()
        }
    return value


def secret_item_hits(label: str, attributes: Mapping[str, str], org: Organisation) -> list[Hit]:
    """An organisation credential among a Secret Service item's label and attributes.

    Samples: ("Git: https://git.example.ac.uk/", {"server": "git.example.ac.uk", "user": "alice"});
    ("Network secret for eduroam/802-1x/password", {"setting-name": "802-1x"}); a locked item
    shows only MD5 hashes ({"gkr:compat:hashed:server": "<md5>"}), checked against the
    organisation's exact domains, VPN hosts, realms and SSIDs.
    """
    if "connection-uuid" in attributes and label.count("/") >= 2:  # NetworkManager secret
        words = label.rsplit("/", 2)[0].split(" ")
        for start in range(len(words)):
            if found := _ssid(" ".join(words[start:]), org):
                return [("wifi_profile", *found)]
    plain = [v for k, v in attributes.items() if not k.startswith(_HASHED) and k != "xdg:schema"]
    for value in [*plain, label]:
        if found := org_token(value, org):
            return [("stored_credential", *found)]
    hashed = {v.lower() for k, v in attributes.items() if k.startswith(_HASHED)}
    candidates = [*org.domains, *org.vpn_hosts, *org.kerberos_realms, *org.ssids]
    for value in [*candidates, *(realm.upper() for realm in org.kerberos_realms)]:
        if hashlib.md5(value.encode(), usedforsecurity=False).hexdigest() in hashed:
            return [("stored_credential", value, match_realm(value, org) or value)]
    return []


def _bus(ctx: Context, path: str, method: str, *args: str) -> Any:
    result = ctx.run([*BUSCTL, path, _PROPERTIES, method, *args], timeout=10.0)
    if result.returncode != 0:
        raise FactUnavailable(first_line(result.stderr) or f"busctl exited {result.returncode}")
    return parse_bus_reply(result.stdout)


def _collection(ctx: Context, scan: ScanState, path: str) -> None:
    props = _bus(ctx, path, "GetAll", "s", "org.freedesktop.Secret.Collection")
    name, hidden = str(props.get("Label") or path), 0
    for item in props.get("Items") or []:
        if scan.out_of_time():
            return
        try:
            got = _bus(ctx, str(item), "GetAll", "s", "org.freedesktop.Secret.Item")
        except FactUnavailable:
            hidden += 1
            continue
        label, attributes = str(got.get("Label") or ""), got.get("Attributes") or {}
        if not label and any(k.startswith(_HASHED) for k in attributes):
            hidden += 1
        for kind, identity, matched in secret_item_hits(label, attributes, scan.org):
            scan.add(kind, "secret_service", f"{name}: {label or item}", identity, matched)
    if hidden:
        reason = f"locked: {hidden} item(s) show only hashed attributes until it is unlocked"
        scan.not_read("secret_service", name, reason)


def find_secret_service(ctx: Context, scan: ScanState) -> None:
    """Secret Service (GNOME Keyring, KWallet, KeePassXC) item labels and attributes via busctl.

    Only the Properties interface is called: never GetSecret, never Unlock (no prompt).
    """
    own = (ctx.env("HOME") or "").rstrip("/")
    for home in scan.homes:
        files = [
            under(ctx, home.path, folder)
            for folder, suffix in _KEYRING_FILES
            if any(n.endswith(suffix) for n in listing(ctx, scan, "secret_service", under(ctx, home.path, folder)) or {})
        ]
        if home.path.rstrip("/") == own:
            try:
                reply = _bus(ctx, "/org/freedesktop/secrets", "Get", "ss", "org.freedesktop.Secret.Service", "Collections")
                for path in reply or []:
                    _collection(ctx, scan, str(path))
                continue
            except CommandNotFound:
                why = "busctl is not installed"
            except FactUnavailable as exc:
                why = f"no Secret Service in this session ({exc})"
        else:
            why = "another user's keyring: readable only in that user's session"
        for folder in files:
            scan.not_read("secret_service", folder, why)


def find_keychains(ctx: Context, scan: ScanState) -> None:
    """macOS keychains: every home's login keychain and the System keychain, attributes only."""
    keychains = ["/Library/Keychains/System.keychain"]
    for home in scan.homes:
        folder = under(ctx, home.path, "Library/Keychains")
        for name, kind in sorted((listing(ctx, scan, "keychain", folder) or {}).items()):
            if kind == "file" and name.endswith((".keychain", ".keychain-db")):
                keychains.append(under(ctx, folder, name))
            elif kind == "dir" and re.fullmatch(r"[0-9A-F-]{36}", name):
                reason = "data-protection (iCloud) keychain: not readable with `security`"
                scan.not_read("keychain", under(ctx, folder, name), reason)
    for path in keychains:
        if scan.out_of_time():
            return
        try:
            result = ctx.run(["security", "dump-keychain", path], timeout=30.0)
        except FactUnavailable as exc:
            scan.not_read("keychain", path, str(exc))
            continue
        if result.returncode != 0:
            scan.not_read("keychain", path, first_line(result.stderr) or "security failed")
            continue
        for kind, identity, matched in keychain_hits(parse_keychain_dump(result.stdout), scan.org):
            scan.add(kind, "keychain", path, identity, matched)


def find_credential_manager(ctx: Context, scan: ScanState) -> None:
    """Windows Credential Manager targets of the signed-in user; other users' vaults noted."""
    own = (ctx.env("USERPROFILE") or "").rstrip("\\").lower()
    for home in scan.homes:
        if home.path.rstrip("\\").lower() == own:
            _own_credentials(ctx, scan)
            continue
        for relative in ("AppData/Roaming/Microsoft/Credentials", "AppData/Local/Microsoft/Credentials"):
            folder = under(ctx, home.path, relative)
            if listing(ctx, scan, "credential_manager", folder):
                why = "another user's Credential Manager: readable only in that user's session"
                scan.not_read("credential_manager", folder, why)


def _own_credentials(ctx: Context, scan: ScanState) -> None:
    try:
        entries = parse_credman(ps_json(ctx, "credentials-credman", CREDMAN_SCRIPT, 40.0))
    except FactUnavailable as exc:
        try:
            result = ctx.run(["cmdkey", "/list"], timeout=15.0)
            entries = parse_cmdkey(result.stdout)
        except FactUnavailable as fallback:
            scan.not_read("credential_manager", "Credential Manager", f"{exc}; {fallback}")
            return
    for target, (kind, identity, matched) in credential_hits(entries, scan.org):
        scan.add(kind, "credential_manager", target, identity, matched)


FINDERS: dict[str, tuple[Finder, ...]] = {
    "linux": (find_secret_service,),
    "darwin": (find_keychains,),
    "windows": (find_credential_manager,),
}
