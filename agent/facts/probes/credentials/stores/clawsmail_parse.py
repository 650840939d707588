"""Pure parser for Claws Mail's accounts (accountrc): addresses and servers, never passwords."""

from __future__ import annotations

from agent.facts.probes.credentials.settings import Organisation
from agent.facts.probes.credentials.stores.appdata_parse import Hit
from agent.facts.probes.credentials.stores.clients_parse import add_hit, login_hit

_SERVERS = ("receive_server", "smtp_server", "nntp_server")


def claws_hits(text: str, org: Organisation) -> list[Hit]:
    """Organisation mail accounts in Claws Mail's accountrc.

    Sample:
        [Account: 1]
        account_name=ab1234@example.ac.uk
        address=alice.smith@example.ac.uk
        protocol=0
        receive_server=imap.example.ac.uk
        smtp_server=smtp.example.ac.uk
        user_id=ab1234
    Passwords are kept in passwordstorerc (encrypted), which is not read.
    """
    accounts: list[dict[str, str]] = []
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("[Account:"):
            accounts.append({})
        elif accounts and "=" in line:
            key, _, value = line.partition("=")
            if key in ("address", "user_id", *_SERVERS):
                accounts[-1][key] = value.strip()
    hits: list[Hit] = []
    for account in accounts:
        hit = login_hit("mail_account", "", account.get("address", ""), org)
        for server in _SERVERS:
            if hit is None and account.get(server):
                hit = login_hit("mail_account", account[server], account.get("user_id", ""), org)
        add_hit(hits, hit)
    return hits
