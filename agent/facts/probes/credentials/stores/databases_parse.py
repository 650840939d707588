"""Pure parsers for database clients: ~/.pgpass, ~/.my.cnf, DBeaver, SQL Developer."""

from __future__ import annotations

import json
import re
from typing import Any

from agent.facts.context import ParseError
from agent.facts.probes.credentials.settings import Organisation
from agent.facts.probes.credentials.stores.appdata_parse import Hit
from agent.facts.probes.credentials.stores.clients_parse import (
    add_hit,
    child_text,
    local,
    login_hit,
    saved_kind,
    xml_root,
)

_PGPASS_FIELD = re.compile(r"((?:[^:\\]|\\.)*)(?::|$)")


def pgpass_hits(text: str, org: Organisation) -> list[Hit]:
    """Organisation servers in a PostgreSQL password file (~/.pgpass, %APPDATA%\\postgresql\\
    pgpass.conf); the fifth field, the password, is dropped unread.

    Sample: db.example.ac.uk:5432:research:ab1234:CANARY...
            # comment
            *:*:*:postgres:...        <- wildcard host: not the organisation's
    """
    hits: list[Hit] = []
    for raw in text.splitlines():
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        fields = [f.replace("\\:", ":").replace("\\\\", "\\") for f in _PGPASS_FIELD.findall(raw)]
        if len(fields) < 4:
            continue
        hit = login_hit("saved_login", fields[0], fields[3], org)
        add_hit(hits, hit)
    return hits


def mycnf_hits(text: str, org: Organisation) -> list[Hit]:
    """Organisation servers in a MySQL/MariaDB option file section that holds a password.

    Sample: [client]\\nhost=db.example.ac.uk\\nuser=ab1234\\npassword="CANARY..."
    A section with a host but no password is a saved session (the client asks).
    """
    hits: list[Hit] = []
    sections: list[dict[str, str]] = [{}]
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("[") and line.endswith("]"):
            sections.append({})
        elif line and not line.startswith(("#", ";", "!")):
            key, sep, value = line.partition("=")
            key = key.strip().lower().replace("-", "_")
            if key in ("host", "user"):
                sections[-1][key] = value.strip().strip("\"'")
            elif key == "password":
                sections[-1][key] = "1" if sep else ""
    for section in sections:
        kind = saved_kind(section.get("password"))
        hit = login_hit(kind, section.get("host", ""), section.get("user", ""), org)
        add_hit(hits, hit)
    return hits


def dbeaver_hits(text: str, org: Organisation) -> list[Hit]:
    """Organisation servers among DBeaver's saved connections (workspace data-sources.json).

    Sample: {"folders": {}, "connections": {"postgres-jdbc-18c1": {"provider": "postgresql",
    "name": "Research DB", "save-password": true, "configuration": {"host": "db.example.ac.uk",
    "port": "5432", "database": "research", "url": "jdbc:postgresql://db.example.ac.uk:5432/
    research", "auth-model": "native"}}}}
    User names and passwords sit encrypted in credentials-config.json, which is not read.
    """
    try:
        doc: Any = json.loads(text)
    except ValueError as exc:
        raise ParseError(f"data-sources.json is not JSON: {exc}") from exc
    connections = doc.get("connections") if isinstance(doc, dict) else None
    if not isinstance(connections, dict):
        raise ParseError("data-sources.json has no 'connections' object")
    hits: list[Hit] = []
    for connection in connections.values():
        if not isinstance(connection, dict):
            continue
        config = connection.get("configuration")
        config = config if isinstance(config, dict) else {}
        host = config.get("host") if isinstance(config.get("host"), str) else ""
        url = config.get("url") if isinstance(config.get("url"), str) else ""
        if not host and url:
            host = re.sub(r"^jdbc:[a-z0-9]+:(?:thin:@)?", "", url)  # jdbc:...://host:port/db
        user = config.get("user") if isinstance(config.get("user"), str) else ""
        kind = saved_kind(connection.get("save-password") is True)
        hit = login_hit(kind, str(host), str(user), org)
        add_hit(hits, hit)
    return hits


def sqldeveloper_hits(text: str, org: Organisation) -> list[Hit]:
    """Organisation servers among Oracle SQL Developer's connections (connections.json of
    19.x and later, connections.xml before).

    Samples: {"connections": [{"name": "fin", "type": "jdbc", "info": {"hostname":
    "ora.example.ac.uk", "port": "1521", "serviceName": "FIN", "user": "ab1234",
    "SavePassword": "true", "password": "...", "customUrl": "jdbc:oracle:thin:@//ora..."}}]}
    <References><Reference name="fin"><RefAddresses><StringRefAddr addrType="hostname">
    <Contents>ora.example.ac.uk</Contents></StringRefAddr><StringRefAddr addrType="user">
    <Contents>ab1234</Contents></StringRefAddr>...</RefAddresses></Reference></References>
    """
    infos: list[dict[str, str]] = []
    if text.lstrip().startswith("<"):
        for reference in xml_root(text, "connections.xml").iter():
            if local(reference.tag) != "Reference":
                continue
            info: dict[str, str] = {}
            for address in reference.iter():
                if local(address.tag) == "StringRefAddr":
                    info[address.get("addrType", "")] = child_text(address, "Contents")
            infos.append(info)
    else:
        try:
            doc: Any = json.loads(text)
        except ValueError as exc:
            raise ParseError(f"connections.json is not JSON: {exc}") from exc
        rows = doc.get("connections") if isinstance(doc, dict) else None
        if not isinstance(rows, list):
            raise ParseError("connections.json has no 'connections' list")
        for row in rows:
            info_raw = row.get("info") if isinstance(row, dict) else None
            if isinstance(info_raw, dict):
                infos.append({str(k): str(v) for k, v in info_raw.items()})
    hits: list[Hit] = []
    for info in infos:
        host = info.get("hostname", "")
        if not host and info.get("customUrl"):
            host = re.sub(r"^jdbc:[a-z0-9]+:(?:thin:)?@(?://)?", "", info["customUrl"])
        saved = info.get("SavePassword", "").lower() == "true" or bool(info.get("password"))
        kind = saved_kind(saved)
        hit = login_hit(kind, host, info.get("user", ""), org)
        add_hit(hits, hit)
    return hits
