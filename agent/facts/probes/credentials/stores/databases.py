"""Database clients: PostgreSQL password files, MySQL option files, DBeaver connections."""

from __future__ import annotations

from agent.facts.context import Context
from agent.facts.probes.credentials.per_os import PerOs, join
from agent.facts.probes.credentials.scan import ScanState
from agent.facts.probes.credentials.stores.databases_parse import (
    dbeaver_hits,
    mycnf_hits,
    pgpass_hits,
)
from agent.facts.probes.credentials.stores.readers import read_parsed
from agent.facts.probes.credentials.stores.storefiles import Finder

PGPASS: PerOs[tuple[str, ...]] = PerOs(
    linux=(".pgpass",), darwin=(".pgpass",), windows=("AppData/Roaming/postgresql/pgpass.conf",)
)
MYCNF: PerOs[tuple[str, ...]] = PerOs(
    linux=(".my.cnf",), darwin=(".my.cnf",), windows=(".my.cnf", "AppData/Roaming/MySQL/.my.cnf")
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


FINDERS: PerOs[tuple[Finder, ...]] = PerOs(
    linux=(find_database_clients,),
    darwin=(find_database_clients,),
    windows=(find_database_clients,),
)
