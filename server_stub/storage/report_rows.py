"""Report rows: a batch inserted in one statement, deduplicated on id, and who owns an id."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from server_stub.storage.tables import Report

# Built once, like storage.device_writes' statements.
_INSERT = {
    name: dialect_insert(Report).on_conflict_do_nothing(index_elements=["id"]).returning(Report.id)
    for name, dialect_insert in (("sqlite", sqlite_insert), ("postgresql", pg_insert))
}
_OWNERS = select(Report.id, Report.device_id).where(Report.id.in_(bindparam("ids", expanding=True)))


def insert_reports(connection: Connection, rows: list[dict[str, Any]]) -> set[str]:
    """Rows with every column of `reports`; returns the ids that were new (deduplication)."""
    if not rows:
        return set()
    # In id order: two collectors inserting the same ids in opposite orders could deadlock on
    # the primary key's index.
    ordered = sorted(rows, key=lambda row: str(row["id"]))
    return {row[0] for row in connection.execute(_INSERT[connection.dialect.name], ordered)}


def report_owners(connection: Connection, report_ids: list[str]) -> dict[str, str]:
    """report id -> device id, for the ids that are stored."""
    if not report_ids:
        return {}
    found = connection.execute(_OWNERS, {"ids": report_ids})
    return {str(report_id): str(device_id) for report_id, device_id in found}
