"""accounts on macOS: utmpx sessions, dscl users and admins, dsconfigad, Platform SSO."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from agent.facts.context import FactUnavailable
from agent.facts.probes.accounts.darwin_parse import (
    AdBinding,
    AdminGroup,
    PlatformSso,
    admin_group,
    domain_join,
    is_human,
    local_account,
    parse_app_sso_platform,
    parse_console_user,
    parse_dscl_record,
    parse_dscl_uids,
    parse_dsconfigad,
    work_accounts,
)
from agent.facts.probes.accounts.model import DomainJoin, LocalAccount, Session, WorkAccount
from agent.facts.probes.base import Reading, attempt, run_checked
from agent.report import Gaps, rfc3339

TIMEOUT = 10.0
_NOT_A_USER = {"root", "loginwindow", "_mbsetupuser", ""}
Record = dict[str, list[str]]


@dataclass(frozen=True)
class _Records:
    """The dscl records of the human accounts, and why some could not be read (or None)."""

    humans: list[tuple[str, int]]
    records: dict[str, Record]
    failures: str | None


@dataclass(frozen=True)
class _Directory:
    """The directory join, or why it is unknown; and Platform SSO, when app-sso answered."""

    join: DomainJoin | None
    why: str
    sso: PlatformSso | None


def read_logged_in(reading: Reading) -> list[Session]:
    sessions = [
        Session(
            name=u.name,
            terminal=u.terminal or None,
            host=u.host or None,
            started_at=rfc3339(u.started),
        )
        for u in reading.ctx.users()
    ]
    # utmpx is the source; the owner of /dev/console (the GUI user) is added if utmpx missed it.
    argv = ["stat", "-f", "%Su", "/dev/console"]
    console = attempt(
        reading.gaps,
        "logged_in.console",
        lambda: parse_console_user(run_checked(reading.ctx, argv, TIMEOUT)),
    )
    known = {s.name for s in sessions}
    if console is not None and console not in _NOT_A_USER and console not in known:
        sessions.append(Session(name=console, terminal="console", host=None, started_at=None))
    return sessions


def read_local_accounts(reading: Reading) -> list[LocalAccount]:
    found = _records(reading)
    if found.failures:
        reading.gaps["local_accounts.enabled"] = found.failures
    admins = attempt(reading.gaps, "local_accounts.admin", lambda: _admins(reading))
    if admins is not None and admins.nested:
        reading.gaps["local_accounts.admin"] = (
            "the admin group nests other groups (e.g. AD 'Allowed admin groups'): "
            "membership through them is not resolved, those accounts' admin is null"
        )
    return [local_account(n, u, found.records.get(n), admins) for n, u in found.humans]


def read_domain_join(reading: Reading) -> DomainJoin:
    directory = _directory(reading)
    if directory.join is None:
        raise FactUnavailable(directory.why)
    return directory.join


def read_work_accounts(reading: Reading) -> list[WorkAccount]:
    found = _records(reading)
    if len(found.records) < len(found.humans):
        # AltSecurityIdentities of every account is the record of Platform SSO sign-ins.
        raise FactUnavailable(found.failures or "dscl could not read every account")
    return work_accounts(list(found.records.values()), _directory(reading).sso)


def _users(reading: Reading) -> list[tuple[str, int]]:
    argv = ["dscl", ".", "-list", "/Users", "UniqueID"]
    return reading.shared(
        "dscl users", lambda: parse_dscl_uids(run_checked(reading.ctx, argv, TIMEOUT))
    )


def _records(reading: Reading) -> _Records:
    """Every human account's record, read once for local_accounts and work_accounts."""

    def read() -> _Records:
        humans = [(name, uid) for name, uid in _users(reading) if is_human(name, uid)]
        failures: Gaps = {}
        records = {}
        for name, _ in humans:
            record = attempt(failures, name, partial(_read_record, reading, name))
            if record is not None:
                records[name] = record
                if not record.get("AuthenticationAuthority"):
                    failures[name] = f"{name} has no AuthenticationAuthority"
        return _Records(humans, records, "; ".join(failures.values()) or None)

    return reading.shared("dscl records", read)


def _read_record(reading: Reading, name: str) -> Record:
    argv = ["dscl", ".", "-read", f"/Users/{name}", "AuthenticationAuthority"]
    result = reading.ctx.run([*argv, "AltSecurityIdentities"], timeout=TIMEOUT)
    # dscl exits non-zero when one of the keys is missing, and still prints the others.
    text = f"{result.stdout}\n{result.stderr}"
    if "AuthenticationAuthority" not in text:
        raise FactUnavailable(f"dscl could not read {name}: {text.strip()[:200]}")
    return parse_dscl_record(text)


def _admins(reading: Reading) -> AdminGroup:
    argv = ["dscl", ".", "-read", "/Groups/admin", "GroupMembership", "NestedGroups"]
    result = reading.ctx.run(argv, timeout=TIMEOUT)
    # Like any dscl -read, a missing key (NestedGroups, mostly) makes the exit code non-zero.
    text = f"{result.stdout}\n{result.stderr}"
    if "GroupMembership" not in text:
        raise FactUnavailable(f"dscl could not read the admin group: {text.strip()[:200]}")
    return admin_group(parse_dscl_record(text))


def _directory(reading: Reading) -> _Directory:
    """Active Directory binding and Platform SSO, read once for domain_join and work_accounts;
    when only one of them answers, domain_join.kind says hybrid-or-not is unknown."""

    def read() -> _Directory:
        failures: Gaps = {}
        ad = attempt(
            failures,
            "dsconfigad",
            lambda: parse_dsconfigad(run_checked(reading.ctx, ["dsconfigad", "-show"], TIMEOUT)),
        )
        argv = ["app-sso", "platform", "-s"]
        sso = attempt(
            failures,
            "app-sso",
            lambda: parse_app_sso_platform(run_checked(reading.ctx, argv, TIMEOUT)),
        )
        reasons = "; ".join(f"{tool}: {why}" for tool, why in failures.items())
        if ad is not None and sso is not None:
            return _Directory(domain_join(ad, sso), "", sso)
        if ad is not None and ad.domain is not None:
            why = f"Platform SSO state unknown, hybrid or not: {reasons}"
            reading.gaps["domain_join.kind"] = why
            return _Directory(domain_join(ad, None), "", None)
        if sso is not None and sso.registered:
            why = f"Active Directory binding unknown, hybrid or not: {reasons}"
            reading.gaps["domain_join.kind"] = why
            return _Directory(domain_join(AdBinding(domain=None), sso), "", sso)
        bound = "not bound to Active Directory" if ad is not None else "Active Directory unknown"
        return _Directory(None, f"{bound}; {reasons}", sso)

    return reading.shared("directory", read)
