"""Pure parsers for collaboration apps and synced folders: who is signed in, for which org."""

from __future__ import annotations

import json
from typing import Any

from agent.facts.context import ParseError
from agent.facts.probes.credentials.scan import match_host, match_tenant
from agent.facts.probes.credentials.settings import Organisation
from agent.facts.probes.credentials.stores.appdata_parse import Hit
from agent.facts.probes.credentials.stores.clients_parse import (
    add_hit,
    child_text,
    local,
    login_hit,
    xml_root,
)
from agent.facts.probes.credentials.stores.vaults_parse import words

# Teams (classic) desktop-config.json: the signed-in user and tenants.
_TEAMS_USERS = ("upnWindowUserUpn", "userUpn")
_TEAMS_TENANTS = ("userTid", "homeTenantId", "guestTenantId")
# Folder-name prefixes of sync clients that name the organisation after them.
_SYNC_PREFIXES = ("onedrive - ", "onedrive-", "dropbox (", "box-")


def _json(text: str, what: str) -> Any:
    try:
        return json.loads(text.lstrip("\ufeff"))
    except ValueError as exc:
        raise ParseError(f"{what} is not JSON: {exc}") from exc


def teams_hits(text: str, org: Organisation) -> list[Hit]:
    """The organisation account signed in to Microsoft Teams (classic).

    Sample (desktop-config.json): {"preventUpnDetectSso": false, "upnWindowUserUpn":
    "alice.smith@example.ac.uk", "userUpn": "", "userOid": "...", "userTid":
    "11111111-2222-4333-8444-555555555555", "homeTenantId": "1111...5555", "guestTenantId": ""}
    """
    doc = _json(text, "Teams desktop-config.json")
    if not isinstance(doc, dict):
        raise ParseError("Teams desktop-config.json: expected an object")
    hits: list[Hit] = []
    for key in _TEAMS_USERS:
        value = doc.get(key)
        if isinstance(value, str) and (matched := match_host(value, org)) and "@" in value:
            hits.append(("chat_account", value, matched))
    if not hits:
        for key in _TEAMS_TENANTS:
            value = doc.get(key)
            if isinstance(value, str) and (matched := match_tenant(value, org)):
                hits.append(("chat_account", value.lower(), matched))
                break
    return hits[:1]


def slack_hits(text: str, org: Organisation) -> list[Hit]:
    """Slack workspaces of the organisation: by its name, its domains or a member e-mail.

    Sample (storage/root-state.json): {"workspaces": {"T01ABCD2EF": {"id": "T01ABCD2EF",
    "name": "University of Example", "domain": "uni-example", "url":
    "https://uni-example.slack.com/"}}}
    Workspaces are matched by name or Slack domain (as words: "university-of-example") or by an
    organisation host in any of their values.
    """
    doc = _json(text, "Slack root-state.json")
    spaces = doc.get("workspaces") if isinstance(doc, dict) else None
    if not isinstance(spaces, dict):
        raise ParseError("Slack root-state.json has no 'workspaces' object")
    names = {words(name): name for name in org.names if words(name)}
    hits: list[Hit] = []
    for space in spaces.values():
        if not isinstance(space, dict):
            continue
        name = str(space.get("name") or "")
        url = str(space.get("url") or "")
        # By its name ("University of Example") or its Slack domain ("university-of-example").
        named = words(name) if words(name) in names else words(str(space.get("domain") or ""))
        hit: Hit | None = None
        if named in names:
            hit = ("chat_account", f"{name} ({url})" if url else name, names[named])
        else:
            for value in space.values():
                if isinstance(value, str) and " " not in value and (m := match_host(value, org)):
                    hit = ("chat_account", value, m)
                    break
        add_hit(hits, hit)
    return hits


def sync_folder_match(name: str, org: Organisation) -> str | None:
    """The organisation name a synced folder is named for: 'OneDrive - University of Example'
    (Windows), 'OneDrive-UniversityofExample' (macOS CloudStorage), 'Dropbox (University of
    Example)'; 'OneDrive - Personal', 'OneDrive' -> None."""
    lowered = name.lower()
    prefix = next((p for p in _SYNC_PREFIXES if lowered.startswith(p)), None)
    if prefix is None:
        return None
    rest = "".join(words(name[len(prefix) :].rstrip(")")).split())
    for org_name in org.names:
        if rest and rest == "".join(words(org_name).split()):
            return org_name
    return None


def pidgin_hits(text: str, org: Organisation) -> list[Hit]:
    """Organisation chat accounts in Pidgin's (libpurple's) accounts.xml: XMPP and other
    accounts whose name or connect server is the organisation's.

    Sample: <account version='1.0'><account><protocol>prpl-jabber</protocol>
    <name>ab1234@example.ac.uk/Laptop</name><password>...</password><settings><setting
    name='connect_server' type='string'>xmpp.example.ac.uk</setting></settings></account>
    </account>
    A saved <password> makes it a saved login; without one, a signed-in chat account.
    """
    root = xml_root(text, "Pidgin accounts.xml")
    hits: list[Hit] = []
    for account in root:
        if local(account.tag) != "account":
            continue
        name = child_text(account, "name").split("/", 1)[0]  # drop the XMPP resource
        kind = "saved_login" if child_text(account, "password") else "chat_account"
        server = ""
        for setting in account.iter():
            if local(setting.tag) == "setting" and setting.get("name") == "connect_server":
                server = (setting.text or "").strip()
        hit = login_hit(kind, server, name, org) if "@" in name else None
        hit = hit or login_hit(kind, server, "", org)
        add_hit(hits, hit)
    return hits
