"""The sweeper's writes: devices due to go stale or unapproved, found unlocked in id order, then
changed a bounded batch at a time, each batch locked in id order (as ingest locks) and changed
by a few set-based statements in its own short transaction."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    and_,
    bindparam,
    insert,
    literal,
    null,
    or_,
    select,
    update,
)

from server_stub.storage.device_writes import locking
from server_stub.storage.tables import Device, Event, RuleState

UNAPPROVED, STALE = "unapproved", "stale"


def _due() -> ColumnElement[bool]:
    """Not revoked, not yet unapproved, and either the approval ended before today or (not
    yet stale) not seen since seen_before."""
    return and_(
        Device.revoked_at.is_(None),
        Device.state != UNAPPROVED,
        or_(
            Device.approval_expires < bindparam("today"),
            and_(Device.state != STALE, Device.last_seen_at < bindparam("seen_before")),
        ),
    )


_DUE_IDS = (
    select(Device.id)
    .where(_due(), Device.id > bindparam("after"))
    .order_by(Device.id)
    .limit(bindparam("limit"))
)
_LOCK_DUE = (
    select(Device.id, Device.approval_expires, Device.failing_rules)
    .where(_due(), Device.id.in_(bindparam("ids", expanding=True)))
    .order_by(Device.id)
)


@dataclass(frozen=True)
class Sweep:
    """One pass's times: today (approvals) and the moment before which a device is silent."""

    today: date
    seen_before: datetime
    now: datetime


def due_ids(connection: Connection, sweep: Sweep, after: str, limit: int) -> list[str]:
    """Up to `limit` ids of due devices after `after`, in id order; nothing locked (each batch
    checks again under its lock: a report may come in between)."""
    values = {"today": sweep.today, "seen_before": sweep.seen_before}
    rows = connection.execute(_DUE_IDS, {**values, "after": after, "limit": limit})
    return [str(row[0]) for row in rows]


def sweep_batch(connection: Connection, ids: list[str], sweep: Sweep, rules: dict[str, str]) -> int:
    """In the caller's transaction: lock these devices (those still due), then fail each kind's
    rule (rules: state -> rule id) and set its state, with history events; returns how many."""
    statement = locking(connection, _LOCK_DUE)
    values = {"today": sweep.today, "seen_before": sweep.seen_before, "ids": ids}
    locked = list(connection.execute(statement, values))
    kinds: dict[str, list[Any]] = defaultdict(list)
    for row in locked:  # the approval decides first: an expired device is unapproved
        kinds[UNAPPROVED if row.approval_expires < sweep.today else STALE].append(row)
    for state, rows in kinds.items():
        _mark(connection, state, rules[state], rows, sweep.now)
    return len(locked)


def _evidence(state: str, row: Any) -> str:
    if state == UNAPPROVED:
        return f"approval expired on {row.approval_expires.isoformat()}"
    return "no report since the last one was received"


def _mark(connection: Connection, state: str, rule_id: str, rows: list[Any], now: datetime) -> None:
    """Set-based: the rule's events and rows, the state events, then the devices. A statement
    per distinct evidence text or failing list (a handful per batch), never one per device."""
    ids = [str(row.id) for row in rows]
    in_ids = Device.id.in_(ids)
    rule_due = and_(
        RuleState.device_id.in_(ids), RuleState.rule_id == rule_id, RuleState.status != "fail"
    )
    event_columns = ["device_id", "at", "kind", "rule_id", "old", "new", "report_id"]
    rule_events = select(
        RuleState.device_id,
        literal(now, Event.at.type),
        literal("rule"),
        RuleState.rule_id,
        RuleState.status,
        literal("fail"),
        null(),
    ).where(rule_due)
    connection.execute(insert(Event).from_select(event_columns, rule_events))
    by_evidence: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        by_evidence[_evidence(state, row)].append(str(row.id))
    for evidence, group in by_evidence.items():
        changed = update(RuleState).where(rule_due, RuleState.device_id.in_(group))
        connection.execute(changed.values(status="fail", evidence=[evidence], changed_at=now))
    state_events = select(
        Device.id,
        literal(now, Event.at.type),
        literal("state"),
        null(),
        Device.state,
        literal(state),
        null(),
    ).where(in_ids, Device.state != state)
    connection.execute(insert(Event).from_select(event_columns, state_events))
    by_failing: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for row in rows:
        failing = list(row.failing_rules or [])
        by_failing[tuple(failing if rule_id in failing else [*failing, rule_id])].append(row.id)
    for failing_rules, group in by_failing.items():
        # The rule rows no longer match the digest: the next report compares the rows.
        devices = update(Device).where(Device.id.in_(group))
        connection.execute(
            devices.values(state=state, failing_rules=list(failing_rules), rules_digest=None)
        )
