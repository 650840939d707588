"""A transaction's writes to rule_states and events: only the rows whose results changed."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, bindparam, insert, select, update

from server_stub.storage.clock import as_utc
from server_stub.storage.tables import Event, RuleState

_COMPARED = (
    "status", "title", "severity", "evidence", "remediation",
    "due_by", "excepted_by", "excepted_until",
)  # fmt: skip
# A failing rule's statuses: failing, failing within its grace period, failing under an exception.
FAILING = ("fail", "due", "excepted")
# The columns a row from a report without grace or exceptions leaves out.
_EXTRA = {"due_by": None, "excepted_by": None, "excepted_until": None}
_TIMES = ("changed_at", "failing_since", "due_by", "excepted_until")

# Built once, like storage.device_writes' statements.
_STORED_RULES = select(RuleState).where(RuleState.device_id.in_(bindparam("ids", expanding=True)))
_INSERT_RULES = insert(RuleState)
_UPDATE_RULES = update(RuleState).where(
    RuleState.device_id == bindparam("k_device"), RuleState.rule_id == bindparam("k_rule")
)
_INSERT_EVENTS = insert(Event)


def rules_digest(rows: list[dict[str, Any]]) -> str:
    """Equal digests, equal rule_states rows: most reports change nothing and skip the rows.
    The rows have rule_states' columns but changed_at, always the same keys in the same order."""
    # orjson is 15x faster than repr.
    return hashlib.blake2b(orjson.dumps(rows), digest_size=16).hexdigest()


def failing_since(known: Mapping[str, Any] | None, now: datetime) -> datetime:
    """When a rule failing now started to fail: as stored, if it was failing already."""
    if known is not None and known["status"] in FAILING and known.get("failing_since"):
        return as_utc(known["failing_since"])
    return now


def stored_rules(
    connection: Connection, device_ids: set[str]
) -> dict[tuple[str, str], dict[str, Any]]:
    """The rule_states rows of these devices, by (device id, rule id)."""
    if not device_ids:
        return {}
    rows = connection.execute(_STORED_RULES, {"ids": list(device_ids)})
    found = {}
    for row in rows:
        values = dict(row._mapping)
        for name in _TIMES:  # SQLite hands them back without a zone: compared with aware ones
            if values[name] is not None:
                values[name] = as_utc(values[name])
        found[(row.device_id, row.rule_id)] = values
    return found


class RuleChanges:
    """Rule rows and history events for one transaction, compared with the rows as stored."""

    def __init__(self, stored: dict[tuple[str, str], dict[str, Any]]) -> None:
        self.stored = stored
        self.current = dict(stored)
        self.dirty: set[tuple[str, str]] = set()
        self.events: list[dict[str, Any]] = []

    def row(self, device_id: str, rule_id: str) -> dict[str, Any] | None:
        """The rule's row as this transaction has it so far (None: the device has none)."""
        return self.current.get((device_id, rule_id))

    def apply(self, rows: list[dict[str, Any]], report_id: str | None, now: datetime) -> None:
        """Rule rows (of a report, or None: of the sweeper): a changed row is rewritten, a
        changed status is an event."""
        for given in rows:
            row = {**_EXTRA, **given}
            key = (row["device_id"], row["rule_id"])
            known = self.current.get(key)
            if known is not None and all(known[k] == row[k] for k in _COMPARED):
                continue
            status_changed = known is None or known["status"] != row["status"]
            changed_at = now if status_changed or known is None else known["changed_at"]
            since = failing_since(known, now) if row["status"] in FAILING else None
            self.current[key] = {**row, "changed_at": changed_at, "failing_since": since}
            self.dirty.add(key)
            if status_changed:
                old = known["status"] if known else None
                self.record(key[0], report_id, "rule", key[1], old, row["status"], now)

    def record(
        self,
        device_id: str,
        report_id: str | None,
        kind: str,
        rule_id: str | None,
        old: str | None,
        new: str,
        now: datetime,
    ) -> None:
        """A history event: kind "rule" (with its rule id) or "state" (the device's)."""
        self.events.append(
            {
                "device_id": device_id,
                "at": now,
                "kind": kind,
                "rule_id": rule_id,
                "old": old,
                "new": new,
                "report_id": report_id,
            }
        )

    def write(self, connection: Connection) -> None:
        inserts = [self.current[k] for k in self.dirty if k not in self.stored]
        updates = [
            {
                **{k: v for k, v in self.current[key].items() if k not in ("device_id", "rule_id")},
                "k_device": key[0],
                "k_rule": key[1],
            }
            for key in self.dirty
            if key in self.stored
        ]
        if inserts:
            connection.execute(_INSERT_RULES, inserts)
        if updates:
            connection.execute(_UPDATE_RULES, updates)
        if self.events:
            connection.execute(_INSERT_EVENTS, self.events)
