"""The floors for bench/ingest.py: bare ASGI endpoints that only insert the report.

No framework, no authentication, no validation, no evaluation: read the body, take the three
values the columns need out of it, insert one row into `floor_reports` (the same columns, keys
and index as the collector's `reports` table, in the same database) and answer 200. Two of them:

  - `app`          one INSERT per request, each its own transaction (autocommit): the cost of
                   HTTP on uvicorn plus one durable INSERT;
  - `batched_app`  group commit as the collector does it (server_stub.ingest.group_commit, the
                   collector's own class): the rows that arrive while one transaction is being
                   written form the next, stored by one thread per worker in one transaction
                   with one executemany. The real upper bound for the collector, which writes
                   the same way and does its work on top.

Served exactly like the collector: `python bench/ingest_floor.py` asks `collector serve` itself
for the keyword arguments it gives uvicorn.run (server_stub.commands.serve with uvicorn.run
intercepted), so the floor gets the same loop, HTTP protocol (httptools with TCP_NODELAY),
access log (off), log level, proxy and server-header settings and worker count, whatever the
collector's are on the day:

    python bench/ingest_floor.py --app batched_app --database-url postgresql+psycopg://... \\
        --data-dir DIR --port 8500 --workers 2

The database connections follow the collector's settings: SQLite in WAL with
synchronous=FULL and foreign keys on (each commit fsynced, as the collector's); PostgreSQL
through psycopg (for `app` a pool of autocommit connections per worker, so that commits from
concurrent requests overlap; for `batched_app` one connection in the writer thread).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import sys
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import psycopg

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parent))  # server_stub, when run as a script from anywhere

from server_stub.ingest.group_commit import GroupCommit  # noqa: E402

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Row = tuple[Any, ...]

URL_VARIABLE = "BENCH_FLOOR_DATABASE_URL"
PG_POOL_SIZE = 8
TABLE = "floor_reports"
COLUMNS = "id, device_id, received_at, collected_at, source_ip, verdict, body"
PG_INSERT = f"INSERT INTO {TABLE} ({COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s::json)"
SQLITE_INSERT = f"INSERT INTO {TABLE} ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"


def create_table_sql(dialect: str) -> list[str]:
    """DDL mirroring the collector's `reports` table (migration 0001) under another name."""
    timestamp = "TIMESTAMP WITH TIME ZONE" if dialect == "postgresql" else "DATETIME"
    return [
        f"CREATE TABLE IF NOT EXISTS {TABLE} ("
        "id VARCHAR(36) NOT NULL PRIMARY KEY, "
        "device_id VARCHAR(36) NOT NULL REFERENCES devices (id), "
        f"received_at {timestamp} NOT NULL, "
        "collected_at VARCHAR(40) NOT NULL, "
        "source_ip VARCHAR(45) NOT NULL, "
        "verdict VARCHAR(20) NOT NULL, "
        "body JSON NOT NULL)",
        f"CREATE INDEX IF NOT EXISTS ix_{TABLE}_device_received "
        f"ON {TABLE} (device_id, received_at)",
    ]


def plain_url(url: str) -> str:
    """postgresql+psycopg://... (SQLAlchemy's form) -> postgresql://... (libpq's)."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def sqlite_path(url: str) -> str:
    return url.removeprefix("sqlite:///")


def sqlite_connection(path: str) -> sqlite3.Connection:
    """The collector's SQLite settings (server_stub/storage/db.py)."""
    connection = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    connection.execute("PRAGMA foreign_keys=ON")
    return connection


def sqlite_row(row: Row) -> Row:
    return (row[0], row[1], row[2].isoformat(" "), *row[3:])


class Store(Protocol):
    async def open(self) -> None: ...

    async def insert(self, row: Row) -> None: ...

    async def close(self) -> None: ...


class SQLiteStore:
    """One connection, autocommit: each INSERT is its own transaction."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.connection: sqlite3.Connection | None = None

    async def open(self) -> None:
        self.connection = sqlite_connection(self.path)

    async def insert(self, row: Row) -> None:
        assert self.connection is not None
        # Runs on the event loop: SQLite serialises writers whatever we do, and a thread hop
        # would only add to the floor's cost.
        self.connection.execute(SQLITE_INSERT, sqlite_row(row))

    async def close(self) -> None:
        if self.connection is not None:
            self.connection.close()


class PostgresStore:
    """A fixed pool of autocommit connections; a request waits for a free one."""

    def __init__(self, url: str, size: int = PG_POOL_SIZE) -> None:
        self.url = url
        self.size = size
        self.idle: asyncio.Queue[psycopg.AsyncConnection[Any]] = asyncio.Queue()
        self.all: list[psycopg.AsyncConnection[Any]] = []

    async def open(self) -> None:
        for _ in range(self.size):
            connection = await psycopg.AsyncConnection.connect(self.url, autocommit=True)
            self.all.append(connection)
            self.idle.put_nowait(connection)

    async def insert(self, row: Row) -> None:
        connection = await self.idle.get()
        try:
            await connection.execute(PG_INSERT, row)
        finally:
            self.idle.put_nowait(connection)

    async def close(self) -> None:
        for connection in self.all:
            await connection.close()


class BatchedStore:
    """Group commit with the collector's GroupCommit: one thread, one transaction per batch."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.group: GroupCommit[Row, None] = GroupCommit(self._write)
        self.sqlite: sqlite3.Connection | None = None
        self.postgres: psycopg.Connection[Any] | None = None

    async def open(self) -> None:
        if self.url.startswith("sqlite"):
            self.sqlite = sqlite_connection(sqlite_path(self.url))
        else:
            self.postgres = psycopg.connect(plain_url(self.url))

    def _write(self, rows: list[Row]) -> list[None]:
        """In the writer thread: the batch in one transaction, one executemany."""
        if self.sqlite is not None:
            self.sqlite.execute("BEGIN")
            try:
                self.sqlite.executemany(SQLITE_INSERT, [sqlite_row(row) for row in rows])
            except BaseException:
                self.sqlite.execute("ROLLBACK")
                raise
            self.sqlite.execute("COMMIT")
        else:
            assert self.postgres is not None
            with self.postgres.transaction(), self.postgres.cursor() as cursor:
                cursor.executemany(PG_INSERT, rows)
        return [None] * len(rows)

    async def insert(self, row: Row) -> None:
        await self.group.submit(row)

    async def close(self) -> None:
        self.group.close()
        for connection in (self.sqlite, self.postgres):
            if connection is not None:
                connection.close()


def make_store(url: str, batched: bool) -> Store:
    if batched:
        return BatchedStore(url)
    if url.startswith("sqlite"):
        return SQLiteStore(sqlite_path(url))
    return PostgresStore(plain_url(url))


async def _body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _answer(send: Send, status: int, payload: bytes) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(payload))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


class FloorApp:
    """POST a JSON object with report_id, device_id and collected_at -> one row, 200."""

    def __init__(self, batched: bool) -> None:
        self.batched = batched
        self.store: Store | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await self._http(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.store = make_store(os.environ[URL_VARIABLE], self.batched)
                await self.store.open()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.store is not None:
                    await self.store.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = await _body(receive)
        if scope["method"] != "POST" or self.store is None:
            await _answer(send, 200, b'{"status":"ok"}')  # health check for the bench
            return
        report = json.loads(body)
        client = scope.get("client")
        row = (
            str(report["report_id"]),
            str(report["device_id"]),
            datetime.now(UTC),
            str(report["collected_at"]),
            client[0] if client else "0.0.0.0",
            "unknown",
            body.decode(),
        )
        await self.store.insert(row)
        await _answer(send, 200, b'{"accepted":true}')


app = FloorApp(batched=False)
batched_app = FloorApp(batched=True)


def collector_options(data_dir: Path, database_url: str, port: int, workers: int) -> dict[str, Any]:
    """The keyword arguments `collector serve` gives uvicorn.run, taken from serve() itself
    (uvicorn.run intercepted), less the application and the worker count."""
    import uvicorn

    from server_stub import commands
    from server_stub.config import Settings

    captured: dict[str, Any] = {}

    def capture(_: object, **options: Any) -> None:
        captured.update(options)

    original = uvicorn.run
    uvicorn.run = capture  # type: ignore[assignment]  # only the keywords are wanted
    try:
        commands.serve(Settings(data_dir, database_url, port=port), workers)
    finally:
        uvicorn.run = original
    for name in ("factory", "workers"):
        captured.pop(name, None)
    return captured


def main() -> int:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--app", choices=["app", "batched_app"], default="app")
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    options = collector_options(args.data_dir, args.database_url, args.port, args.workers)
    print(f"floor {args.app}: uvicorn options of `collector serve`: {options}", flush=True)
    os.environ[URL_VARIABLE] = args.database_url
    uvicorn.run(f"ingest_floor:{args.app}", app_dir=str(BENCH_DIR), workers=args.workers, **options)
    return 0


if __name__ == "__main__":
    sys.exit(main())
