"""Linux account parsers: login.defs, /etc/group, /etc/passwd, loginctl, realm list, sssd.conf."""

from __future__ import annotations

import re

from agent.facts.context import ParseError
from agent.facts.probes.accounts.model import DomainJoin, LocalAccount

ADMIN_GROUPS = ("sudo", "wheel", "admin")
NO_LOGIN_SHELLS = ("nologin", "false", "sync", "shutdown", "halt")


def parse_login_defs(text: str) -> tuple[int, int]:
    """UID_MIN and UID_MAX from /etc/login.defs (defaults 1000 and 60000).

    Sample:
        UID_MIN                  1000
        UID_MAX                 60000
    """
    values = {"UID_MIN": 1000, "UID_MAX": 60000}
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 2 and fields[0] in values and fields[1].isdecimal():
            values[fields[0]] = int(fields[1])
    return values["UID_MIN"], values["UID_MAX"]


def parse_group_members(text: str, groups: tuple[str, ...]) -> tuple[set[str], set[str]]:
    """Members of the named groups from /etc/group, and those groups' GIDs.

    Sample:
        sudo:x:27:alice,bob
        wheel:x:10:
    """
    members: set[str] = set()
    gids: set[str] = set()
    for line in text.splitlines():
        fields = line.split(":")
        if len(fields) >= 4 and fields[0] in groups:
            gids.add(fields[2])
            members.update(m for m in fields[3].split(",") if m)
    return members, gids


def parse_passwd(
    text: str, uid_range: tuple[int, int], admins: set[str], admin_gids: set[str]
) -> list[LocalAccount]:
    """Human accounts from /etc/passwd: UID in the login.defs range and a login shell.

    Sample:
        root:x:0:0:root:/root:/bin/bash
        alice:x:1000:1000:Alice,,,:/home/alice:/bin/bash
    """
    accounts = []
    for line in text.splitlines():
        if not line or line.startswith(("#", "+", "-")):
            continue  # comments, and NIS compat entries (+::::::, +@netgroup, -user)
        fields = line.split(":")
        if len(fields) != 7 or not fields[2].isdecimal():
            raise ParseError(f"malformed passwd line for {fields[0]!r}")
        name, uid, gid, shell = fields[0], int(fields[2]), fields[3], fields[6]
        if not uid_range[0] <= uid <= uid_range[1]:
            continue
        if shell.rsplit("/", 1)[-1] in NO_LOGIN_SHELLS:
            continue
        accounts.append(
            LocalAccount(
                name=name,
                uid=str(uid),
                admin=name in admins or gid in admin_gids,
                enabled=None,
                source="local",
            )
        )
    return accounts


def parse_loginctl_show(text: str) -> dict[str, str]:
    """key=value lines from `loginctl show-session ID -p Name -p Class -p TTY -p RemoteHost`.

    Sample:
        Name=alice
        Class=user
    """
    values = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values[key] = value
    return values


def parse_realm_list(text: str) -> DomainJoin:
    """`realm list`: empty when not joined.

    Sample:
        corp.example.com
          type: kerberos
          realm-name: CORP.EXAMPLE.COM
          domain-name: corp.example.com
          configured: kerberos-member
          server-software: active-directory
    """
    realms: list[dict[str, str]] = []
    for line in text.splitlines():
        if line and not line[0].isspace():
            realms.append({"name": line.strip()})
        elif ":" in line and realms:
            key, _, value = line.strip().partition(":")
            realms[-1][key.strip()] = value.strip()
    if text.strip() and not any("type" in r or "configured" in r for r in realms):
        raise ParseError("realm list printed no realm stanza (type:, configured:)")
    joined = [r for r in realms if r.get("configured", "no") not in ("no", "")]
    if not joined:
        return DomainJoin(joined=False, kind=None, domain=None, tenant_id=None)
    realm = joined[0]
    software = realm.get("server-software", "")
    return DomainJoin(
        joined=True,
        kind="active_directory" if software == "active-directory" else "kerberos",
        domain=realm.get("domain-name") or realm["name"],
        tenant_id=None,
    )


def parse_sssd_domains(text: str) -> list[str]:
    """`domains = ...` from the [sssd] section of /etc/sssd/sssd.conf.

    Sample:
        [sssd]
        domains = corp.example.com, lab.example.com
    """
    match = re.search(r"^\s*domains\s*=\s*(.+)$", text, re.MULTILINE)
    return [d.strip() for d in match[1].split(",") if d.strip()] if match else []
