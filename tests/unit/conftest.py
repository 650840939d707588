"""Fixtures for unit tests that need a real collector database."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from server_stub.storage.db import make_engine, upgrade
from tests.system.pg import ENV_VAR, PgServer

# SQLite always; PostgreSQL too when OUTPOST_TEST_PG_URL names a server (scripts/test starts one).
BACKENDS = ["sqlite", *(["postgresql"] if os.environ.get(ENV_VAR) else [])]


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A migrated collector database of its own, on each backend in turn."""
    server = PgServer() if request.param == "postgresql" else None
    url = server.create_database() if server else f"sqlite:///{tmp_path / 'c.db'}"
    engine = make_engine(url)
    upgrade(engine)
    yield engine
    engine.dispose()
    if server:
        server.close()
