"""The one write path to devices, for ingest and the sweeper: lock rows, change, write back.

Ingest locks and writes devices through it; the sweeper locks through it and writes set-based
(storage.sweep_writes)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Select, bindparam, select, update

from server_stub.storage.tables import Device


@dataclass
class DeviceRow:
    """A locked device row; `touched` rows are written back by write_devices."""

    id: str
    revoked_at: datetime | None
    hardware_id_hash: str | None
    approval_expires: date
    state: str
    failing_rules: list[str]
    last_seen_at: datetime | None
    last_collected_at: str | None
    last_report_id: str | None
    last_source_ip: str | None
    reports_received: int
    rules_digest: str | None
    reports_refused: int
    last_refused_at: datetime | None
    last_refusal: str | None
    touched: bool = False


_COLUMNS = (
    Device.id,
    Device.revoked_at,
    Device.hardware_id_hash,
    Device.approval_expires,
    Device.state,
    Device.failing_rules,
    Device.last_seen_at,
    Device.last_collected_at,
    Device.last_report_id,
    Device.last_source_ip,
    Device.reports_received,
    Device.rules_digest,
    Device.reports_refused,
    Device.last_refused_at,
    Device.last_refusal,
)

# Statements are built once: SQLAlchemy then reuses each one's cache key and compiled form
# instead of rebuilding them for every batch. Rows are locked in id order (FOR UPDATE on
# PostgreSQL): two transactions that each lock several devices in another order could deadlock.
_BY_SECRET = (
    select(Device.secret_hash, *_COLUMNS)
    .where(Device.secret_hash.in_(bindparam("hashes", expanding=True)))
    .order_by(Device.id)
)
_FOR_UPDATE = {_BY_SECRET: _BY_SECRET.with_for_update()}
_UPDATE = update(Device).where(Device.id == bindparam("k_id"))


AnySelect = Select[*tuple[Any, ...]]


def locking(connection: Connection, statement: AnySelect) -> AnySelect:
    """The statement that reads its rows locked until the transaction ends. SQLite: BEGIN
    IMMEDIATE takes the database's write lock before anything is read; PostgreSQL: FOR UPDATE
    (the locking forms are built once, too)."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")
        return statement
    found = _FOR_UPDATE.get(statement)
    return statement.with_for_update() if found is None else found


def _row(values: Any) -> DeviceRow:
    row = DeviceRow(*values)
    row.failing_rules = list(row.failing_rules or [])
    return row


def lock_devices_by_secret(connection: Connection, hashes: set[str]) -> dict[str, DeviceRow]:
    """secret hash -> the device holding it, locked (on SQLite the lock is taken regardless)."""
    statement = locking(connection, _BY_SECRET)
    if not hashes:
        return {}
    rows = connection.execute(statement, {"hashes": list(hashes)})
    return {str(secret_hash): _row(values) for secret_hash, *values in rows}


def write_devices(connection: Connection, devices: list[DeviceRow]) -> None:
    """One UPDATE for every touched row (executemany)."""
    rows = [
        {
            "k_id": d.id,
            "last_seen_at": d.last_seen_at,
            "state": d.state,
            "failing_rules": d.failing_rules,
            "last_collected_at": d.last_collected_at,
            "last_report_id": d.last_report_id,
            "last_source_ip": d.last_source_ip,
            "reports_received": d.reports_received,
            "rules_digest": d.rules_digest,
            "reports_refused": d.reports_refused,
            "last_refused_at": d.last_refused_at,
            "last_refusal": d.last_refusal,
        }
        for d in devices
        if d.touched
    ]
    if rows:
        connection.execute(_UPDATE, rows)
