"""Throwaway PostgreSQL databases for system tests.

The server is this machine's PostgreSQL on 127.0.0.1:5432 (trust auth, user postgres), or the
server named by OUTPOST_TEST_PG_URL (a URL without a database, e.g.
``postgresql://postgres:secret@db:5432``), which is how CI points the tests elsewhere.

Every database is uniquely named (``outpost_test_<random>``), so several engineers' test runs can
share one server, and it is dropped again when the test session ends. A test that needs
PostgreSQL never skips: when the server cannot be reached, it fails and says how to fix that.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import URL, make_url

ENV_VAR = "OUTPOST_TEST_PG_URL"
DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432"
PREFIX = "outpost_test_"
CONNECT_TIMEOUT_S = 5


def server_url() -> URL:
    """The PostgreSQL server to use, as a SQLAlchemy URL without a database."""
    return make_url(os.environ.get(ENV_VAR) or DEFAULT_SERVER).set(database=None)


def _libpq(url: URL, database: str) -> str:
    """The URL in the plain postgresql:// form psycopg (libpq) understands."""
    plain = url.set(drivername="postgresql", database=database)
    return plain.render_as_string(hide_password=False)


def sqlalchemy_url(database: str, server: URL | None = None) -> str:
    """postgresql+psycopg://... for the collector's --database-url."""
    base = server or server_url()
    url = base.set(drivername="postgresql+psycopg", database=database)
    return url.render_as_string(hide_password=False)


@dataclass
class PgServer:
    """Creates databases on one server and drops every one of them on close()."""

    url: URL = field(default_factory=server_url)
    created: list[str] = field(default_factory=list)

    def _admin(self) -> psycopg.Connection[tuple[object, ...]]:
        try:
            return psycopg.connect(
                _libpq(self.url, "postgres"), autocommit=True, connect_timeout=CONNECT_TIMEOUT_S
            )
        except psycopg.OperationalError as exc:
            problem = str(exc).strip()
        shown = self.url.render_as_string(hide_password=True)
        pytest.fail(
            f"PostgreSQL is not reachable at {shown}: {problem}\n"
            "These tests need a PostgreSQL server: start the local one "
            f"(e.g. `pg_ctlcluster 15 main start`) or set {ENV_VAR} to a server URL "
            "without a database (postgresql://user:password@host:port).",
            pytrace=False,
        )

    def check(self) -> None:
        """Fail now, with the message above, if the server cannot be reached."""
        with self._admin() as conn:
            conn.execute("SELECT 1")

    def create_database(self) -> str:
        """A new empty database; returns its SQLAlchemy URL (postgresql+psycopg://...)."""
        name = PREFIX + secrets.token_hex(6)
        with self._admin() as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        self.created.append(name)
        return sqlalchemy_url(name, self.url)

    def drop_database(self, name: str) -> None:
        with self._admin() as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            )
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        if name in self.created:
            self.created.remove(name)

    def close(self) -> None:
        for name in list(self.created):
            self.drop_database(name)


def database_name(url: str) -> str:
    name = make_url(url).database
    assert name, url
    return name
