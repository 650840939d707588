"""The floor for bench/ingest.py: a bare ASGI endpoint that only inserts the report.

No framework, no authentication, no validation, no evaluation: read the body, take the three
values the columns need out of it, insert one row into `floor_reports` (the same columns, keys
and index as the collector's `reports` table, in the same database) and answer 200. What is left
is the cost of HTTP on uvicorn plus one durable INSERT, which the collector cannot beat.

Served exactly like the collector (uvicorn, same options, same worker counts):

    BENCH_FLOOR_DATABASE_URL=postgresql+psycopg://... \\
        python -m uvicorn ingest_floor:app --app-dir bench --workers 2 --port 8500

The database connection follows the collector's settings: SQLite in WAL with synchronous=NORMAL
and foreign keys on, one connection per worker (SQLite has one writer at a time anyway);
PostgreSQL through psycopg with a small pool of autocommit connections per worker, so that
commits from concurrent requests overlap as they do in the collector.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import UTC, datetime
from typing import Any, Protocol

import psycopg

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

URL_VARIABLE = "BENCH_FLOOR_DATABASE_URL"
PG_POOL_SIZE = 8
TABLE = "floor_reports"
COLUMNS = "id, device_id, received_at, collected_at, source_ip, verdict, body"


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


class Store(Protocol):
    async def open(self) -> None: ...

    async def insert(self, row: tuple[Any, ...]) -> None: ...

    async def close(self) -> None: ...


class SQLiteStore:
    """One connection, autocommit: each INSERT is its own transaction, as in the collector."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.connection: sqlite3.Connection | None = None

    async def open(self) -> None:
        connection = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute("PRAGMA foreign_keys=ON")
        self.connection = connection

    async def insert(self, row: tuple[Any, ...]) -> None:
        assert self.connection is not None
        # Runs on the event loop: an SQLite insert is tens of microseconds, less than a thread
        # hop would cost, and SQLite serialises writers whatever we do.
        self.connection.execute(
            f"INSERT INTO {TABLE} ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (row[0], row[1], row[2].isoformat(" "), *row[3:]),
        )

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

    async def insert(self, row: tuple[Any, ...]) -> None:
        connection = await self.idle.get()
        try:
            await connection.execute(
                f"INSERT INTO {TABLE} ({COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s::json)", row
            )
        finally:
            self.idle.put_nowait(connection)

    async def close(self) -> None:
        for connection in self.all:
            await connection.close()


def make_store(url: str) -> Store:
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

    def __init__(self) -> None:
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
                self.store = make_store(os.environ[URL_VARIABLE])
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


app = FloorApp()
