"""accounts on macOS: utmpx sessions, dscl users and admins, dsconfigad, Platform SSO."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from agent.facts.context import Context, FactUnavailable
from agent.facts.probes.accounts.darwin_parse import (
    AdBinding,
    AdminGroup,
    PlatformSso,
    admin_group,
    is_human,
    parse_app_sso_platform,
    parse_console_user,
    parse_dscl_record,
    parse_dscl_uids,
    parse_dsconfigad,
    platform_sso_identities,
)
from agent.facts.probes.accounts.model import (
    AccountsData,
    DomainJoin,
    LocalAccount,
    Session,
    WorkAccount,
)
from agent.facts.probes.base import attempt
from agent.report import Gaps, rfc3339

TIMEOUT = 10.0
MICROSOFT_SSO_EXTENSION = "com.microsoft.CompanyPortalMac.ssoextension"
_NOT_A_USER = {"root", "loginwindow", "_mbsetupuser", ""}


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
        lambda: parse_console_user(_output(ctx, ["stat", "-f", "%Su", "/dev/console"])),
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
    bound = "not bound to Active Directory" if ad is not None else "Active Directory unknown"
    gaps["domain_join"] = f"{bound}; {reasons}"
    return None, sso


def _records(ctx: Context, names: list[str], gaps: Gaps) -> dict[str, dict[str, list[str]]]:
    failures: Gaps = {}
    records = {}
    for name in names:
        record = attempt(failures, name, partial(_read_record, ctx, name))
        if record is not None:
            records[name] = record
            if not record.get("AuthenticationAuthority"):
                failures[name] = f"{name} has no AuthenticationAuthority"
    if failures:
        gaps["local_accounts.enabled"] = "; ".join(failures.values())
    return records


def _admins(ctx: Context) -> AdminGroup:
    argv = ["dscl", ".", "-read", "/Groups/admin", "GroupMembership", "NestedGroups"]
    result = ctx.run(argv, timeout=TIMEOUT)
    # Like any dscl -read, a missing key (NestedGroups, mostly) makes the exit code non-zero.
    text = f"{result.stdout}\n{result.stderr}"
    if "GroupMembership" not in text:
        raise FactUnavailable(f"dscl could not read the admin group: {text.strip()[:200]}")
    return admin_group(parse_dscl_record(text))


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
    if admins is not None and admins.nested:
        gaps["local_accounts.admin"] = (
            "the admin group nests other groups (e.g. AD 'Allowed admin groups'): "
            "membership through them is not resolved, those accounts' admin is null"
        )
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
