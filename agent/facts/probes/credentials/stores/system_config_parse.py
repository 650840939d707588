"""Pure parsers for system logon and mount settings: Winlogon, unattend.xml, CIFS in fstab."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from agent.facts.context import ParseError
from agent.facts.probes.credentials.settings import Organisation
from agent.facts.probes.credentials.stores.appdata_parse import Hit
from agent.facts.probes.credentials.stores.clients_parse import (
    add_hit,
    child_text,
    local,
    login_hit,
    xml_root,
)

CIFS_TYPES = frozenset({"cifs", "smb3", "smbfs"})
_USER_KEYS = ("username", "user")
_PASSWORD_KEYS = ("password", "pass")
_CREDENTIAL_KEYS = ("credentials", "cred")
_DOMAIN_KEYS = ("domain", "dom", "workgroup")


def autologon_hits(text: str, org: Organisation) -> list[Hit]:
    """An organisation account set to log on automatically, from the Winlogon script's JSON.

    Sample: {"AutoAdminLogon":"1","DefaultDomainName":"AD.EXAMPLE.AC.UK",
    "DefaultUserName":"ab1234","HasDefaultPassword":true}
    DefaultUserName alone is only the last user to sign in; it counts when AutoAdminLogon is 1
    or a DefaultPassword value exists (whose value the script never reads).
    """
    try:
        doc: Any = json.loads(text.strip().lstrip("\ufeff") or "{}")
    except ValueError as exc:
        raise ParseError(f"Winlogon script did not print JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise ParseError("Winlogon script: expected an object")
    enabled = str(doc.get("AutoAdminLogon") or "").strip() == "1"
    if not (enabled or doc.get("HasDefaultPassword") is True):
        return []
    user = str(doc.get("DefaultUserName") or "")
    domain = str(doc.get("DefaultDomainName") or "")
    hit = login_hit("autologon", "", user, org, domain=domain) if user or domain else None
    return [hit] if hit else []


def unattend_hits(text: str, org: Organisation) -> list[Hit]:
    """Organisation accounts in an unattended-setup answer file (Panther, Sysprep).

    Sample: <unattend xmlns="urn:schemas-microsoft-com:unattend"><settings pass="specialize">
    <component name="Microsoft-Windows-UnattendedJoin"><Identification><Credentials>
    <Domain>ad.example.ac.uk</Domain><Username>svc-join</Username><Password>...</Password>
    </Credentials><JoinDomain>ad.example.ac.uk</JoinDomain></Identification></component>
    </settings><settings pass="oobeSystem"><component name="Microsoft-Windows-Shell-Setup">
    <AutoLogon><Password><Value>...</Value></Password><Domain>AD</Domain><Username>ab1234
    </Username><Enabled>true</Enabled></AutoLogon></component></settings></unattend>
    Domain-join credentials, auto-logon and domain accounts count; passwords are never kept.
    """
    root = xml_root(text, "unattend.xml")
    if local(root.tag) != "unattend":
        raise ParseError("unattend.xml: root element is not <unattend>")
    hits: list[Hit] = []
    joins: list[Hit] = []
    for element in root.iter():
        name = local(element.tag)
        hit: Hit | None = None
        if name in ("Credentials", "AutoLogon"):
            user, domain = child_text(element, "Username"), child_text(element, "Domain")
            hit = login_hit("unattend_account", "", user, org, domain=domain)
        elif name == "DomainAccountList":
            domain = child_text(element, "Domain")
            for account in element:
                if local(account.tag) == "DomainAccount":
                    user = child_text(account, "Name")
                    found = login_hit("unattend_account", "", user, org, domain=domain)
                    add_hit(hits, found)
        elif name == "JoinDomain":
            joined = login_hit("unattend_account", "", "", org, (element.text or "").strip())
            joins.extend([joined] if joined else [])
        add_hit(hits, hit)
    # A domain join says less than the account that joins it: reported only on its own.
    return hits or joins[:1]


@dataclass(frozen=True)
class CifsMount:
    """A CIFS/SMB line of /etc/fstab: its line number, share host and sign-in options."""

    line: int
    host: str
    user: str
    domain: str
    has_password: bool
    credentials_file: str


def parse_fstab_cifs(text: str) -> list[CifsMount]:
    """The CIFS/SMB mounts of /etc/fstab with what they sign in with (never the password).

    Sample: //fs.example.ac.uk/research /mnt/research cifs
    credentials=/etc/samba/uni.cred,uid=1000,vers=3.0 0 0
    """
    mounts: list[CifsMount] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        fields = raw.split("#", 1)[0].split()
        if len(fields) < 4 or fields[2].lower() not in CIFS_TYPES:
            continue
        source = fields[0].replace("\\040", " ")
        host = source.replace("\\", "/").lstrip("/").split("/", 1)[0]
        options: dict[str, str] = {}
        for option in fields[3].split(","):
            key, _, value = option.partition("=")
            options[key.strip().lower()] = value.strip()
        mounts.append(
            CifsMount(
                line=number,
                host=host,
                user=next((options[k] for k in _USER_KEYS if options.get(k)), ""),
                domain=next((options[k] for k in _DOMAIN_KEYS if options.get(k)), ""),
                has_password=any(k in options for k in _PASSWORD_KEYS),
                credentials_file=next((options[k] for k in _CREDENTIAL_KEYS if options.get(k)), ""),
            )
        )
    return mounts


def parse_cifs_credentials(text: str) -> tuple[str, str]:
    """(user, domain) of a mount.cifs credentials file; its password line is never kept.

    Sample: username=ab1234\\npassword=...\\ndomain=AD.EXAMPLE.AC.UK
    """
    values: dict[str, str] = {}
    for raw in text.splitlines():
        key, sep, value = raw.strip().partition("=")
        key = key.strip().lower()
        if sep and key in (*_USER_KEYS, *_DOMAIN_KEYS):
            values.setdefault(key, value.strip())
    user = next((values[k] for k in _USER_KEYS if values.get(k)), "")
    return user, next((values[k] for k in _DOMAIN_KEYS if values.get(k)), "")


def cifs_hit(mount: CifsMount, user: str, domain: str, org: Organisation) -> Hit | None:
    """A CIFS mount to an organisation host or with an organisation account, once it signs in
    with something: a password option, a credentials file or a user name."""
    if not (mount.has_password or mount.credentials_file or user):
        return None
    kind = "mount_credentials" if mount.has_password or mount.credentials_file else "mount_account"
    return login_hit(kind, mount.host, user, org, domain=domain)
