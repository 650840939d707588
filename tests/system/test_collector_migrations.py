"""Migrations: several collector commands started together on a fresh database migrate it
once, cleanly; a database from an earlier revision upgrades with its rows kept."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text

from server_stub.storage.db import MIGRATIONS
from tests.system.pg import PgServer

pytestmark = pytest.mark.system
COLLECTOR = str(Path(sys.executable).parent / "collector")


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()


def database_url(database: list[str]) -> str:
    if database[0] == "--database-url":
        return database[1]
    return f"sqlite:///{database[1]}/collector.db"


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[list[str]]:
    if request.param == "sqlite":
        yield ["--data-dir", str(tmp_path / "data")]
        return
    server = PgServer()
    try:
        yield ["--database-url", server.create_database()]
    finally:
        server.close()


def test_concurrent_first_commands_all_succeed(database: list[str]) -> None:
    processes = [
        subprocess.Popen(
            [
                COLLECTOR,
                "device",
                "register",
                f"race-{n}",
                "--owner",
                "o",
                "--department",
                "d",
                "--approved-by",
                "h",
                "--justification",
                "race",
                "--expires",
                "2099-01-01",
                *database,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(4)
    ]
    results = [(p.wait(120), p.stderr.read() if p.stderr else "") for p in processes]
    assert all(code == 0 for code, _ in results), results
    url = (
        database[1] if database[0] == "--database-url" else f"sqlite:///{database[1]}/collector.db"
    )
    engine = create_engine(url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM devices")).scalar() == 4
        versions = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    engine.dispose()
    assert [v[0] for v in versions] == [HEAD]


def test_a_database_at_the_first_revision_upgrades_with_its_rows(
    database: list[str], tmp_path: Path
) -> None:
    """0001 -> head: a device written by the old revision is kept and can be changed."""
    if database[0] == "--data-dir":
        Path(database[1]).mkdir()
    engine = create_engine(database_url(database))
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
        connection.execute(
            text(
                "INSERT INTO devices (id, name, owner, department, approved_by, justification,"
                " approval_expires, registered_at, state, failing_rules, reports_received)"
                " VALUES ('d1', 'old-laptop', 'Ada', 'CS', 'Head', 'outreach', '2099-01-01',"
                " '2026-01-01 00:00:00+00', 'compliant', '[]', 3)"
            )
        )
    engine.dispose()
    # Any command upgrades first; revoking then changes the row the old revision wrote.
    result = subprocess.run(
        [COLLECTOR, "device", "revoke", "old-laptop", *database], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    engine = create_engine(database_url(database))
    with engine.connect() as connection:
        version = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
        row = connection.execute(
            text("SELECT name, state, reports_received, rules_digest FROM devices")
        ).one()
    engine.dispose()
    assert version == HEAD
    assert tuple(row) == ("old-laptop", "revoked", 3, None)


def test_postgresql_indexes_the_fleet_search_by_trigrams(tmp_path: Path) -> None:
    """On PostgreSQL, as the collector's own (non-superuser) database owner, the upgrade adds
    pg_trgm indexes that a substring search uses."""
    server = PgServer()
    try:
        url = server.create_database()
        done = subprocess.run(
            [COLLECTOR, "token", "list", "--database-url", url, "--data-dir", str(tmp_path)],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        engine = create_engine(url)
        with engine.connect() as connection:
            names = set(
                connection.scalars(
                    text("SELECT indexname FROM pg_indexes WHERE tablename = 'devices'")
                )
            )
            assert {f"ix_devices_{c}_trgm" for c in ("name", "owner", "department")} <= names
            connection.execute(text("SET enable_seqscan = off"))
            plan = "\n".join(
                connection.scalars(
                    text(
                        "EXPLAIN SELECT id FROM devices WHERE lower(name) LIKE :p "
                        "OR lower(owner) LIKE :p OR lower(department) LIKE :p"
                    ),
                    {"p": "%press%"},
                )
            )
            assert "ix_devices_name_trgm" in plan, plan
        engine.dispose()
    finally:
        server.close()
