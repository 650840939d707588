"""Database clients: PostgreSQL password files, MySQL option files, DBeaver and SQL Developer."""

from __future__ import annotations

from agent.facts.context import Context
from agent.facts.probes.credentials.per_os import PerOs, join
from agent.facts.probes.credentials.scan import ScanState
from agent.facts.probes.credentials.stores.databases_parse import (
    dbeaver_hits,
    mycnf_hits,
    pgpass_hits,
    sqldeveloper_hits,
)
from agent.facts.probes.credentials.stores.readers import read_parsed
from agent.facts.probes.credentials.stores.storefiles import Finder, list_folder

PGPASS: PerOs[tuple[str, ...]] = PerOs(
    linux=(".pgpass",), darwin=(".pgpass",), windows=("AppData/Roaming/postgresql/pgpass.conf",)
)
MYCNF: PerOs[tuple[str, ...]] = PerOs(
    linux=(".my.cnf",), darwin=(".my.cnf",), windows=(".my.cnf", "AppData/Roaming/MySQL/.my.cnf")
)
SQLDEVELOPER: PerOs[str] = PerOs(
    linux=".sqldeveloper", darwin=".sqldeveloper", windows="AppData/Roaming/SQL Developer"
)
_DBEAVER = "DBeaverData/workspace6/General/.dbeaver/data-sources.json"
DBEAVER: PerOs[tuple[str, ...]] = PerOs(
    linux=(f".local/share/{_DBEAVER}",),
    darwin=(f"Library/{_DBEAVER}",),
    windows=(f"AppData/Roaming/{_DBEAVER}",),
)


def find_database_clients(ctx: Context, scan: ScanState) -> None:
    """Every home's PostgreSQL password file, MySQL option file and DBeaver connections."""
    for home in scan.homes:
        for store, files, hits in (
            ("pgpass", PGPASS, pgpass_hits),
            ("mysql", MYCNF, mycnf_hits),
            ("dbeaver", DBEAVER, dbeaver_hits),
        ):
            for relative in files.pick(ctx):
                read_parsed(ctx, scan, store, join(ctx, home.path, relative), hits)


def find_sqldeveloper(ctx: Context, scan: ScanState) -> None:
    """Oracle SQL Developer: every version's connections (system*/o.jdeveloper.db.connection*)."""
    for home in scan.homes:
        root = join(ctx, home.path, SQLDEVELOPER.pick(ctx))
        for system in list_folder(ctx, scan, "sqldeveloper", root) or []:
            if system.kind != "dir" or not system.name.startswith("system"):
                continue
            folder = join(ctx, root, system.name)
            for sub in list_folder(ctx, scan, "sqldeveloper", folder) or []:
                if sub.kind == "dir" and sub.name.startswith("o.jdeveloper.db.connection"):
                    for name in ("connections.json", "connections.xml"):
                        path = join(ctx, folder, sub.name, name)
                        read_parsed(ctx, scan, "sqldeveloper", path, sqldeveloper_hits)


FINDERS: PerOs[tuple[Finder, ...]] = PerOs(
    linux=(find_database_clients, find_sqldeveloper),
    darwin=(find_database_clients, find_sqldeveloper),
    windows=(find_database_clients, find_sqldeveloper),
)
