"""accounts on macOS: utmpx sessions, dscl users and admins, dsconfigad, Platform SSO."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

from agent.context import Context, FactUnavailable, ParseError
from agent.probes.accounts.model import (
    AccountsData,
    DomainJoin,
    LocalAccount,
    Session,
    WorkAccount,
)
from agent.probes.base import Gaps, attempt
from agent.report import rfc3339

TIMEOUT = 10.0
MICROSOFT_SSO_EXTENSION = "com.microsoft.CompanyPortalMac.ssoextension"
_NOT_A_USER = {"root", "loginwindow", "_mbsetupuser", ""}
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


@dataclass(frozen=True)
class AdBinding:
    """What `dsconfigad -show` says: the Active Directory domain, None when not bound."""

    domain: str | None


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


def platform_sso_identities(record: dict[str, list[str]]) -> list[str]:
    """Identities a user registered with Platform SSO (AltSecurityIdentities PlatformSSO:<upn>)."""
    values = record.get("AltSecurityIdentities", [])
    return [v.split(":", 1)[1] for v in values if v.startswith("PlatformSSO:") and ":" in v]


def local_account(
    name: str, uid: int, record: dict[str, list[str]] | None, admins: set[str] | None
) -> LocalAccount:
    """One human account; DisabledUser in AuthenticationAuthority = disabled, LocalCachedUser =
    a mobile (cached Active Directory) account."""
    authority = " ".join((record or {}).get("AuthenticationAuthority", []))
    source = None
    if authority:
        source = "active_directory" if ";LocalCachedUser;" in authority else "local"
    return LocalAccount(
        name=name,
        uid=str(uid),
        admin=None if admins is None else name in admins,
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


def _output(ctx: Context, argv: Sequence[str]) -> str:
    result = ctx.run(argv, timeout=TIMEOUT)
    if result.returncode != 0:
        lines = (result.stderr or result.stdout).strip().splitlines()
        detail = lines[-1][:200] if lines else "no output"
        raise FactUnavailable(f"{argv[0]} exited with {result.returncode}: {detail}")
    return result.stdout


def _logged_in(ctx: Context, gaps: Gaps) -> list[Session]:
    sessions = [
        Session(
            name=u.name,
            terminal=u.terminal or None,
            host=u.host or None,
            started_at=rfc3339(u.started),
        )
        for u in ctx.users()
    ]
    # utmpx is the source; the owner of /dev/console (the GUI user) is added if utmpx missed it.
    console = attempt(
        gaps,
        "logged_in.console",
        lambda: _output(ctx, ["stat", "-f", "%Su", "/dev/console"]).strip(),
    )
    known = {s.name for s in sessions}
    if console is not None and console not in _NOT_A_USER and console not in known:
        sessions.append(Session(name=console, terminal="console", host=None, started_at=None))
    return sessions


def _read_record(ctx: Context, name: str) -> dict[str, list[str]]:
    argv = ["dscl", ".", "-read", f"/Users/{name}", "AuthenticationAuthority"]
    result = ctx.run([*argv, "AltSecurityIdentities"], timeout=TIMEOUT)
    # dscl exits non-zero when one of the keys is missing, and still prints the others.
    text = f"{result.stdout}\n{result.stderr}"
    if "AuthenticationAuthority" not in text:
        raise FactUnavailable(f"dscl could not read {name}: {text.strip()[:200]}")
    return parse_dscl_record(text)


def _domain_join(ctx: Context, gaps: Gaps) -> tuple[DomainJoin | None, PlatformSso | None]:
    failures: Gaps = {}
    ad = attempt(
        failures, "dsconfigad", lambda: parse_dsconfigad(_output(ctx, ["dsconfigad", "-show"]))
    )
    sso = attempt(
        failures,
        "app-sso",
        lambda: parse_app_sso_platform(_output(ctx, ["app-sso", "platform", "-s"])),
    )
    reasons = "; ".join(f"{tool}: {why}" for tool, why in failures.items())
    if ad is not None and sso is not None:
        return domain_join(ad, sso), sso
    if ad is not None and ad.domain is not None:
        gaps["domain_join.kind"] = f"Platform SSO state unknown, hybrid or not: {reasons}"
        return domain_join(ad, None), None
    if sso is not None and sso.registered:
        gaps["domain_join.kind"] = f"Active Directory binding unknown, hybrid or not: {reasons}"
        return domain_join(AdBinding(domain=None), sso), sso
    gaps["domain_join"] = reasons
    return None, sso


def _records(ctx: Context, names: list[str], gaps: Gaps) -> dict[str, dict[str, list[str]]]:
    failures: Gaps = {}
    records = {}
    for name in names:
        record = attempt(failures, name, partial(_read_record, ctx, name))
        if record is not None:
            records[name] = record
    if failures:
        gaps["local_accounts.enabled"] = "; ".join(failures.values())
    return records


def _admins(ctx: Context) -> set[str]:
    argv = ["dscl", ".", "-read", "/Groups/admin", "GroupMembership"]
    return set(parse_dscl_record(_output(ctx, argv)).get("GroupMembership", []))


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


def collect(ctx: Context) -> AccountsData:
    gaps: Gaps = {}
    logged_in = attempt(gaps, "logged_in", lambda: _logged_in(ctx, gaps))
    argv = ["dscl", ".", "-list", "/Users", "UniqueID"]
    users = attempt(gaps, "local_accounts", lambda: parse_dscl_uids(_output(ctx, argv)))
    humans = [(name, uid) for name, uid in users or [] if is_human(name, uid)]
    records = _records(ctx, [name for name, _ in humans], gaps)
    admins = attempt(gaps, "local_accounts.admin", lambda: _admins(ctx)) if users else None
    join, sso = _domain_join(ctx, gaps)
    work = None
    if users is None or len(records) < len(humans):
        # AltSecurityIdentities of every account is the record of Platform SSO sign-ins.
        gaps["work_accounts"] = gaps.get("local_accounts") or gaps["local_accounts.enabled"]
    else:
        work = work_accounts(list(records.values()), sso)
    accounts = [local_account(n, u, records.get(n), admins) for n, u in humans]
    return AccountsData(
        logged_in=logged_in,
        local_accounts=None if users is None else accounts,
        domain_join=join,
        work_accounts=work,
        gaps=gaps,
    )
