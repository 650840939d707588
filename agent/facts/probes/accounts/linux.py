"""accounts on Linux: utmp (psutil) or logind sessions, /etc/passwd and groups, realmd/sssd."""

from __future__ import annotations

from agent.facts.context import FactUnavailable, FileMissing
from agent.facts.probes.accounts.linux_parse import (
    ADMIN_GROUPS,
    parse_group_members,
    parse_login_defs,
    parse_loginctl_show,
    parse_passwd,
    parse_realm_list,
    parse_sssd_domains,
)
from agent.facts.probes.accounts.model import DomainJoin, LocalAccount, Session, WorkAccount
from agent.facts.probes.base import Reading
from agent.report import rfc3339


def read_logged_in(reading: Reading) -> list[Session]:
    ctx = reading.ctx
    users = ctx.users()
    if users:
        return [
            Session(
                name=u.name,
                terminal=u.terminal or None,
                host=u.host or None,
                started_at=rfc3339(u.started),
            )
            for u in users
        ]
    # utmp can be empty (Debian 13 has no utmp): ask logind, when systemd runs.
    if not ctx.which("loginctl"):
        return []
    listing = ctx.run(["loginctl", "list-sessions", "--no-legend"], timeout=10)
    # Without systemd as init, loginctl exits non-zero and says so: that means no logind.
    if listing.returncode != 0:
        if "not been booted with systemd" in listing.stderr + listing.stdout:
            return []  # no logind, and utmp is empty: nobody is logged in that we can see
        raise FactUnavailable(f"loginctl failed: {listing.stderr.strip()[:200]}")
    sessions = []
    for line in listing.stdout.splitlines():
        if not line.split():
            continue
        session_id = line.split()[0]
        argv = ["loginctl", "show-session", session_id, "-p", "Name", "-p", "Class"]
        shown = ctx.run([*argv, "-p", "TTY", "-p", "RemoteHost"], timeout=10)
        values = parse_loginctl_show(shown.stdout)
        if values.get("Class", "user") in ("user", "user-early") and values.get("Name"):
            sessions.append(
                Session(
                    name=values["Name"],
                    terminal=values.get("TTY") or None,
                    host=values.get("RemoteHost") or None,
                    started_at=None,
                )
            )
    return sessions


def read_local_accounts(reading: Reading) -> list[LocalAccount]:
    ctx = reading.ctx
    try:
        uid_range = parse_login_defs(ctx.read_text("/etc/login.defs"))
    except FileMissing:
        uid_range = (1000, 60000)
    admins, admin_gids = parse_group_members(ctx.read_text("/etc/group"), ADMIN_GROUPS)
    return parse_passwd(ctx.read_text("/etc/passwd"), uid_range, admins, admin_gids)


def read_domain_join(reading: Reading) -> DomainJoin:
    ctx = reading.ctx
    if ctx.which("realm"):
        done = ctx.run(["realm", "list"], timeout=15)
        # realm fails without realmd running; sssd.conf may still name the domain.
        if done.returncode == 0:
            return parse_realm_list(done.stdout)
    if ctx.exists("/etc/sssd/sssd.conf"):
        domains = parse_sssd_domains(ctx.read_text("/etc/sssd/sssd.conf"))
        if domains:
            return DomainJoin(joined=True, kind="sssd", domain=domains[0], tenant_id=None)
    return DomainJoin(joined=False, kind=None, domain=None, tenant_id=None)


def read_work_accounts(reading: Reading) -> list[WorkAccount]:
    # Linux has no OS-level work-account sign-in; browser and SSO sessions are credentials.
    return []
