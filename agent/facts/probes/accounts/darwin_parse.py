"""macOS account parsers: dscl, stat /dev/console, dsconfigad, app-sso platform -s; and what they
make together: local accounts, the directory join, Platform SSO work accounts."""

from __future__ import annotations

import re
from dataclasses import dataclass

from agent.facts.context import ParseError
from agent.facts.probes.accounts.model import DomainJoin, LocalAccount, WorkAccount

MICROSOFT_SSO_EXTENSION = "com.microsoft.CompanyPortalMac.ssoextension"
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


@dataclass(frozen=True)
class AdBinding:
    """What `dsconfigad -show` says: the Active Directory domain, None when not bound."""

    domain: str | None


@dataclass(frozen=True)
class AdminGroup:
    """The local admin group: direct members, and whether it nests other groups."""

    members: frozenset[str]
    nested: bool


@dataclass(frozen=True)
class PlatformSso:
    """What `app-sso platform -s` says about Platform SSO on this Mac."""

    registered: bool
    extension: str | None
    tenant_id: str | None
    user_identity: str | None


def parse_dscl_uids(text: str) -> list[tuple[str, int]]:
    """(name, uid) from `dscl . -list /Users UniqueID`.

    _analyticsd              263
    alice                    501
    nobody                   -2
    """
    rows = []
    for line in text.splitlines():
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 2 or not re.fullmatch(r"-?\d+", fields[1]):
            raise ParseError(f"unexpected dscl user line: {line.strip()[:80]!r}")
        rows.append((fields[0], int(fields[1])))
    if not rows:
        raise ParseError("dscl listed no users")
    return rows


def parse_console_user(text: str) -> str:
    """The owner of /dev/console from `stat -f %Su /dev/console` ("root" at the login window).

    alice
    """
    name = text.strip()
    if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.@-]{0,254}", name):
        raise ParseError(f"stat printed no user name: {name[:80]!r}")
    return name


def is_human(name: str, uid: int) -> bool:
    """Human accounts have UID >= 500 and no leading underscore (_amavisd is a daemon)."""
    return uid >= 500 and not name.startswith("_")


def parse_dscl_record(text: str) -> dict[str, list[str]]:
    """Attributes from `dscl . -read /Users/alice AuthenticationAuthority AltSecurityIdentities`.

    AuthenticationAuthority: ;ShadowHash;HASHLIST:<SALTED-SHA512-PBKDF2> ;Kerberosv5;;alice@LKDC...
    AltSecurityIdentities:
     PlatformSSO:alice@contoso.example
    No such key: OriginalNodeName
    One-line values are space-separated; a multi-line value has one value per indented line.
    """
    record: dict[str, list[str]] = {}
    key: str | None = None
    for line in text.splitlines():
        if not line.strip() or line.startswith("No such key:"):
            continue
        if line[0].isspace():
            if key is None:
                raise ParseError(f"dscl value without an attribute: {line.strip()[:80]!r}")
            record[key].append(line.strip())
            continue
        match = re.match(r"^([\w.:-]+):(?:\s(.*))?$", line)
        if match is None:
            raise ParseError(f"unexpected dscl line: {line.strip()[:80]!r}")
        key = match.group(1)
        record[key] = (match.group(2) or "").split()
    return record


def parse_app_sso_platform(text: str) -> PlatformSso:
    """Platform SSO state from `app-sso platform -s` (macOS 13+; JSON or plist-style blocks).

    Device Configuration:
     {
      "extensionIdentifier" : "com.microsoft.CompanyPortalMac.ssoextension",
      "registrationCompleted" : true, ...
    Login Configuration:
     { "issuer" : "https://login.microsoftonline.com/<tenant id>/v2.0", ...
    User Configuration:
     { "kerberosStatus" : [ { "upn" : "alice\\\\@contoso.example@KERBEROS.MICROSOFTONLINE.COM" ...
    Each block is " (null)" when not configured (sample after fleetdm/fleet's test data).
    """
    parts = re.split(r"^(Device|Login|User) Configuration:[ \t]*$", text, flags=re.MULTILINE)
    blocks = {parts[i]: parts[i + 1].strip() for i in range(1, len(parts) - 1, 2)}
    if "Device" not in blocks:
        raise ParseError("app-sso platform -s printed no 'Device Configuration:'")
    device = blocks["Device"]
    if device.startswith("(null)"):
        return PlatformSso(registered=False, extension=None, tenant_id=None, user_identity=None)
    extension = re.search(r'"?extensionIdentifier"?\s*[:=]\s*"([^"]+)"', device)
    completed = re.search(r'"?registrationCompleted"?\s*[:=]\s*(\w+)', device)
    issuer = re.search(r'"?issuer"?\s*[:=]\s*"([^"]+)"', blocks.get("Login", ""))
    tenant = _GUID.search(issuer.group(1)) if issuer else None
    user = blocks.get("User", "")
    upn = re.search(r'"?upn"?\s*[:=]\s*"([^"]+)"', user)
    identity = None
    if upn:
        identity = upn.group(1).replace("\\", "")
        if identity.count("@") >= 2:  # alice@contoso.example@KERBEROS.MICROSOFTONLINE.COM
            identity = identity.rsplit("@", 1)[0]
    return PlatformSso(
        registered=completed is None or completed.group(1).lower() in {"true", "1", "yes"},
        extension=extension.group(1) if extension else None,
        tenant_id=tenant.group(0).lower() if tenant else None,
        user_identity=identity,
    )


def parse_dsconfigad(text: str) -> AdBinding:
    """The Active Directory binding from `dsconfigad -show` (empty output: not bound).

    Active Directory Forest          = corp.example.com
    Active Directory Domain          = corp.example.com
    Computer Account                 = mbp-0042$
    """
    if not text.strip():
        return AdBinding(domain=None)
    match = re.search(r"^\s*Active Directory Domain\s*=\s*(\S.*?)\s*$", text, re.MULTILINE)
    if match is None:
        raise ParseError("dsconfigad -show printed no 'Active Directory Domain'")
    return AdBinding(domain=match.group(1))


def admin_group(record: dict[str, list[str]]) -> AdminGroup:
    """From `dscl . -read /Groups/admin GroupMembership NestedGroups` (parsed by
    parse_dscl_record). NestedGroups (GUIDs) appear when, e.g., AD "Allowed admin groups" are
    set: their members are admins too, and are not resolved here."""
    return AdminGroup(
        members=frozenset(record.get("GroupMembership", [])),
        nested=bool(record.get("NestedGroups")),
    )


def platform_sso_identities(record: dict[str, list[str]]) -> list[str]:
    """Identities a user registered with Platform SSO (AltSecurityIdentities PlatformSSO:<upn>)."""
    values = record.get("AltSecurityIdentities", [])
    return [v.split(":", 1)[1] for v in values if v.startswith("PlatformSSO:") and ":" in v]


def local_account(
    name: str, uid: int, record: dict[str, list[str]] | None, admins: AdminGroup | None
) -> LocalAccount:
    """One human account; DisabledUser in AuthenticationAuthority = disabled, LocalCachedUser =
    a mobile (cached Active Directory) account."""
    authority = " ".join((record or {}).get("AuthenticationAuthority", []))
    source = None
    if authority:
        source = "active_directory" if ";LocalCachedUser;" in authority else "local"
    admin = None
    if admins is not None and (name in admins.members or not admins.nested):
        admin = name in admins.members
    return LocalAccount(
        name=name,
        uid=str(uid),
        admin=admin,
        enabled=";DisabledUser;" not in authority if authority else None,
        source=source,
    )


def domain_join(ad: AdBinding, sso: PlatformSso | None) -> DomainJoin:
    """AD bind and Platform SSO registration together: hybrid, active_directory, entra, ..."""
    registered = sso is not None and sso.registered
    if ad.domain is None and not registered:
        return DomainJoin(joined=False, kind=None, domain=None, tenant_id=None)
    sso_kind = "entra" if sso and sso.extension == MICROSOFT_SSO_EXTENSION else "platform_sso"
    kind = "active_directory" if not registered else "hybrid" if ad.domain else sso_kind
    return DomainJoin(
        joined=True,
        kind=kind,
        domain=ad.domain,
        tenant_id=sso.tenant_id if sso and registered else None,
    )


def work_accounts(
    records: list[dict[str, list[str]]], sso: PlatformSso | None
) -> list[WorkAccount]:
    """Platform SSO identities of every account, and of the user app-sso ran as."""
    identities = [i for record in records for i in platform_sso_identities(record)]
    if sso and sso.user_identity:
        identities.append(sso.user_identity)
    provider = "entra" if sso and sso.extension == MICROSOFT_SSO_EXTENSION else "platform_sso"
    unique = {i.lower(): i for i in identities}
    tenant = sso.tenant_id if sso else None
    return [WorkAccount(identity=i, provider=provider, tenant_id=tenant) for i in unique.values()]
