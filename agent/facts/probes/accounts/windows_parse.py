"""Windows account parsers: ACCOUNTS_SCRIPT's JSON parts and dsregcmd /status text."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from agent.facts.context import FactUnavailable, ParseError
from agent.facts.probes.accounts.model import DomainJoin, LocalAccount, Session, WorkAccount
from agent.facts.probes.base import attempt, first_line
from agent.facts.probes.powershell_parse import (
    list_field,
    obj,
    opt_bool,
    opt_str,
    parse_json,
    part,
)
from agent.report import Gaps

_DOC = "powershell accounts"
_DSREG_LINE = re.compile(r"^\s*(\S[^:]*?)\s*:\s*(.*)$")
_SYSTEM_RIDS = {"503", "504"}  # DefaultAccount, WDAGUtilityAccount: managed by Windows


@dataclass(frozen=True)
class AdminMember:
    """One member of the local Administrators group (S-1-5-32-544)."""

    sid: str
    name: str
    is_user: bool


def parse_dsregcmd(text: str) -> dict[str, str]:
    """`dsregcmd /status` as key -> value (first occurrence wins).

    Sample (constructed, reference C.4):
                     AzureAdJoined : YES
                      DomainJoined : YES
                        DomainName : CORP
                          TenantId : 11111111-2222-4333-8444-555555555555
    """
    values: dict[str, str] = {}
    for line in text.splitlines():
        match = _DSREG_LINE.match(line)
        if match and not line.lstrip().startswith(("|", "+")):
            values.setdefault(match.group(1), match.group(2).strip())
    if "AzureAdJoined" not in values:
        raise ParseError("dsregcmd /status printed no 'AzureAdJoined' line")
    return values


def parse_admin_members(text: str) -> list[AdminMember]:
    """Members of S-1-5-32-544 as the ADSI WinNT provider lists them.

    Sample (constructed, reference C.3): {"admins":{"ok":true,"value":{"Members":[{"SID":
    "S-1-12-1-1111111111-2222222222-3333333333-4444444444","Path":"WinNT://AzureAD/AliceExample",
    "Class":"User"}]}}}
    """
    members = []
    value = obj(part(parse_json(text, _DOC), "admins"), "admins")
    for item in list_field(value, "Members"):
        row = obj(item, "admin member")
        sid = opt_str(row, "SID")
        if sid is None or not sid.startswith("S-1-"):
            raise ParseError(f"admin member without a SID: {row!r}"[:100])
        path = opt_str(row, "Path") or sid
        name = path.removeprefix("WinNT://").replace("/", "\\")
        members.append(
            AdminMember(sid=sid, name=name, is_user=(opt_str(row, "Class") or "").lower() == "user")
        )
    return members


def _machine_prefix(sid: str) -> str:
    return sid.rsplit("-", 1)[0]


def parse_local_accounts(text: str, admins: list[AdminMember] | None) -> list[LocalAccount]:
    """Local users (Get-LocalUser) with admin flags, plus admin users from AD or Entra ID.

    Sample (constructed, reference C.2): {"users":{"ok":true,"value":{"Source":"LocalAccounts",
    "Users":[{"Name":"alice","SID":"S-1-5-21-1111111111-2222222222-3333333333-1001",
    "Enabled":true,"PrincipalSource":"MicrosoftAccount"}]}}}
    """
    value = obj(part(parse_json(text, _DOC), "users"), "users")
    admin_sids = None if admins is None else {m.sid for m in admins}
    accounts, prefixes = [], set()
    for item in list_field(value, "Users"):
        row = obj(item, "local user")
        name, sid = opt_str(row, "Name"), opt_str(row, "SID")
        if name is None or sid is None:
            raise ParseError("local user without Name or SID")
        prefixes.add(_machine_prefix(sid))
        if sid.rsplit("-", 1)[-1] in _SYSTEM_RIDS:
            continue
        source = opt_str(row, "PrincipalSource")
        accounts.append(
            LocalAccount(
                name=name,
                uid=sid,
                admin=None if admin_sids is None else sid in admin_sids,
                enabled=opt_bool(row, "Enabled"),
                source="local" if source == "Local" else source,
            )
        )
    for member in admins or []:
        if member.is_user and _machine_prefix(member.sid) not in prefixes:
            cloud = member.sid.startswith("S-1-12-1-")
            accounts.append(
                LocalAccount(
                    name=member.name,
                    uid=member.sid,
                    admin=True,
                    enabled=None,
                    source="AzureAD" if cloud else "ActiveDirectory",
                )
            )
    return accounts


def _join_rows(doc: Any, key: str, field: str) -> list[dict[str, Any]]:
    return [obj(r, f"{key} entry") for r in list_field(obj(part(doc, key), key), field)]


def _dsreg(doc: Any) -> dict[str, str]:
    result = obj(part(doc, "dsreg"), "dsreg")
    if opt_str(result, "ExitCode") not in ("0", None):
        raise FactUnavailable(
            f"dsregcmd /status failed: {first_line(opt_str(result, 'Text') or '')}"
        )
    return parse_dsregcmd(opt_str(result, "Text") or "")


def parse_domain_join(text: str) -> DomainJoin:
    """Win32_ComputerSystem (AD), dsregcmd /status and the CloudDomainJoin registry (Entra).

    Azure + domain = hybrid; Azure only = entra; domain only = active_directory; neither =
    workgroup. Sample: {"computer":{"ok":true,"value":{"PartOfDomain":false,"Domain":"WORKGROUP",
    "Workgroup":"WORKGROUP","UserName":"PC-0042\\alice"}},"dsreg":{"ok":true,"value":{"ExitCode":0,
    "Text":"AzureAdJoined : NO ..."}},"joininfo":{"ok":true,"value":{"Device":[]}}}
    """
    doc = parse_json(text, _DOC)
    why: Gaps = {}
    computer = attempt(why, "computer", lambda: obj(part(doc, "computer"), "computer"))
    dsreg = attempt(why, "dsregcmd", lambda: _dsreg(doc))
    device = attempt(why, "joininfo", lambda: _join_rows(doc, "joininfo", "Device"))
    ad = opt_bool(computer, "PartOfDomain") if computer else None
    if ad is None and dsreg:
        ad = dsreg.get("DomainJoined", "").upper() == "YES"
    if dsreg:
        entra: bool | None = dsreg["AzureAdJoined"].upper() == "YES"
    else:
        entra = None if device is None else bool(device)
    tenant = (dsreg or {}).get("TenantId") or next(
        (t for t in (opt_str(r, "TenantId") for r in device or []) if t), None
    )
    domain = (opt_str(computer, "Domain") if computer else None) or (dsreg or {}).get("DomainName")
    if entra and ad:
        return DomainJoin(joined=True, kind="hybrid", domain=domain, tenant_id=tenant)
    if entra:
        return DomainJoin(joined=True, kind="entra", domain=None, tenant_id=tenant)
    if ad:
        return DomainJoin(joined=True, kind="active_directory", domain=domain, tenant_id=None)
    if entra is False and ad is False:
        return DomainJoin(joined=False, kind="workgroup", domain=None, tenant_id=None)
    raise FactUnavailable("; ".join(why.values()) or "join state not readable")


def parse_work_accounts(text: str) -> list[WorkAccount]:
    """Entra accounts: device join (CloudDomainJoin), workplace join and Office (ADAL) identities.

    Sample (constructed, reference C.5): {"joininfo":{"ok":true,"value":{"Device":[{"UserEmail":
    "alice@contoso.example","TenantId":"11111111-2222-4333-8444-555555555555"}]}},"workplace":
    {"ok":true,"value":{"User":[],"Office":[{"EmailAddress":"alice@contoso.example",
    "ProviderId":"ADAL"}]}}}. Office "LiveId" identities are personal accounts and left out.
    """
    doc = parse_json(text, _DOC)
    found: list[tuple[str | None, str | None]] = []
    for row in _join_rows(doc, "joininfo", "Device") + _join_rows(doc, "workplace", "User"):
        found.append((opt_str(row, "UserEmail"), opt_str(row, "TenantId")))
    for row in _join_rows(doc, "workplace", "Office"):
        if (opt_str(row, "ProviderId") or "").upper() == "ADAL":
            found.append((opt_str(row, "EmailAddress"), None))
    accounts: dict[str, WorkAccount] = {}
    for identity, tenant in found:
        if identity and identity.lower() not in accounts:
            accounts[identity.lower()] = WorkAccount(
                identity=identity, provider="entra", tenant_id=tenant
            )
    return list(accounts.values())


def with_console_user(sessions: list[Session], text: str) -> list[Session]:
    """The sessions, plus the console user as Win32_ComputerSystem sees it ("CORP\\alice") when
    WTS did not list it (it may list it bare); no readable 'computer' part adds nobody.

    Sample: {"computer":{"ok":true,"value":{"PartOfDomain":true,"UserName":"CORP\\alice"}}}
    """
    computer = attempt({}, "computer", lambda: obj(part(parse_json(text, _DOC), "computer"), "c"))
    console = opt_str(computer, "UserName") if computer else None
    if console and console.rsplit("\\", 1)[-1].lower() not in {s.name.lower() for s in sessions}:
        return [*sessions, Session(name=console, terminal="console", host=None, started_at=None)]
    return sessions


def runs_as_system(text: str) -> bool:
    """The script ran as LocalSystem (its 'system' part); unknown counts as no.

    Sample: {"system":{"ok":true,"value":{"IsSystem":true}}}
    """
    system = attempt({}, "system", lambda: obj(part(parse_json(text, _DOC), "system"), "system"))
    return bool(system and system.get("IsSystem") is True)
