"""Database engine and migrations: SQLite (WAL) in the data directory, or PostgreSQL."""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import sessionmaker

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def _json_text(value: Any) -> str:
    """JSON columns through orjson: reports are written at hundreds per second."""
    return orjson.dumps(value).decode()


def make_engine(url: str) -> Engine:
    json_options: dict[str, Any] = {
        "json_serializer": _json_text,
        "json_deserializer": orjson.loads,
    }
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **json_options
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            # FULL: each commit is fsynced, so a report answered 200 (and deleted by the agent)
            # survives a power cut; NORMAL in WAL mode may lose the last commits.
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    # One connection per request: a pool as large as the worker-thread pool (40) neither waits
    # nor opens and closes overflow connections under load (each costs PostgreSQL ~4 ms CPU).
    # No pre-ping (a round trip per request): after a database restart the first requests on
    # dead connections fail with 5xx, which agents retry; connections are recycled hourly.
    return create_engine(url, pool_size=40, max_overflow=10, pool_recycle=3600, **json_options)


@contextlib.contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    """One migrator at a time: `collector serve` and a CLI command may start together.

    PostgreSQL: a transaction-wide advisory lock. SQLite: pysqlite runs DDL outside
    transactions, so an exclusive file lock beside the database file.
    """
    if engine.dialect.name == "sqlite":
        database = engine.url.database
        lock_path = Path(database + ".migrate.lock") if database else None
        if lock_path is None or database == ":memory:":
            yield
            return
        with lock_path.open("w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
    else:
        yield


def upgrade(engine: Engine) -> None:
    """Create or upgrade the tables to the newest migration."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with _migration_lock(engine), engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.exec_driver_sql("SELECT pg_advisory_xact_lock(7242757)")  # "Outpost"
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def database_fault(engine: Engine) -> SQLAlchemyError | None:
    """None when the database answers a query; else the fault (down, unreadable, no pool
    connection in time), for the caller to report."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        return exc
    return None


def session_factory(engine: Engine) -> sessionmaker[Any]:
    return sessionmaker(engine, expire_on_commit=False)
