"""Several collector commands started together on a fresh database migrate it once, cleanly."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.system.pg import PgServer

pytestmark = pytest.mark.system
COLLECTOR = str(Path(sys.executable).parent / "collector")


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
    assert [v[0] for v in versions] == ["0001"]
