"""/healthz: 200 while the database answers, 503 with a reason and Retry-After when it is gone
(never a 500), 200 again when it is back. SQLite: the database file replaced by a folder;
PostgreSQL (always: a throwaway database on the test server): connections refused."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg import sql

from server_stub.app import create_app
from server_stub.config import Settings
from server_stub.state import CollectorState
from tests.system.pg import PgServer, _libpq, database_name


def client_for(tmp_path: Path, url: str) -> Iterator[TestClient]:
    app = create_app(Settings(data_dir=tmp_path, database_url=url), run_sweeper=False)
    with TestClient(app) as client:
        yield client


def assert_unavailable(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 503, response.text
    assert response.json() == {"status": "unavailable", "reason": "the database does not answer"}
    assert response.headers["retry-after"] == "30"


def assert_other_routes_unavailable(client: TestClient) -> None:
    """Every route that needs the database says so as the report route does: 503, Retry-After,
    and nothing of the driver's error text."""
    answers = [
        client.post(
            "/api/v1/enroll", json={"token": "ose_x", "hostname": "h", "hardware_id_hash": "a" * 64}
        ),
        client.get("/api/v1/policy", headers={"Authorization": "Bearer osd_x"}),
        client.get("/api/v1/devices", headers={"Authorization": "Bearer osa_x"}),
    ]
    for response in answers:
        assert response.status_code == 503, (response.request.url, response.text)
        assert response.headers["retry-after"] == "30"
        assert response.json() == {"detail": "the database is unavailable; try again later"}


def collector_state(client: TestClient) -> CollectorState:
    state: CollectorState = client.app.state.collector  # type: ignore[attr-defined]
    return state


def test_sqlite_database_gone_is_503_then_200_when_back(tmp_path: Path) -> None:
    path = tmp_path / "collector.db"
    for client in client_for(tmp_path, f"sqlite:///{path}"):
        assert client.get("/healthz").json() == {"status": "ok"}
        path.rename(tmp_path / "away.db")
        path.mkdir()  # a folder where the database was: SQLite cannot open it
        collector_state(client).engine.dispose()  # open connections would still see the file
        assert_unavailable(client)
        assert_other_routes_unavailable(client)
        path.rmdir()
        (tmp_path / "away.db").rename(path)
        assert client.get("/healthz").status_code == 200


def set_connections(server: PgServer, name: str, allowed: bool) -> None:
    with psycopg.connect(_libpq(server.url, "postgres"), autocommit=True) as conn:
        conn.execute(
            sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS {}").format(
                sql.Identifier(name), sql.SQL("true" if allowed else "false")
            )
        )
        if not allowed:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (name,),
            )


@pytest.fixture
def pg_server() -> Iterator[PgServer]:
    server = PgServer()
    yield server
    server.close()


def test_postgresql_refusing_connections_is_503_then_200_when_back(
    tmp_path: Path, pg_server: PgServer
) -> None:
    url = pg_server.create_database()
    name = database_name(url)
    for client in client_for(tmp_path, url):
        assert client.get("/healthz").status_code == 200
        set_connections(pg_server, name, allowed=False)
        for _ in range(3):  # the dead pooled connection first, then refused new ones
            assert_unavailable(client)
        assert_other_routes_unavailable(client)
        set_connections(pg_server, name, allowed=True)
        assert client.get("/healthz").status_code == 200
