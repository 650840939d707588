"""The sweeper's set-based writes: due devices, a locked range of ids per short transaction."""

# Devices due are listed unlocked in id order; each batch is the id range (after, upto], locked
# in id order as ingest locks, and changed by a few set-based statements. A range, never a list:
# 1,000 bound ids cost more Python time than the database's work, and that time is taken from
# the event loop's thread (the GIL).

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import orjson
from sqlalchemy import (
    ColumnElement,
    Connection,
    Text,
    and_,
    bindparam,
    cast,
    insert,
    literal,
    not_,
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


_IN_RANGE = and_(Device.id > bindparam("after"), Device.id <= bindparam("upto"))
_DUE_IDS = select(Device.id).where(_due(), Device.id > bindparam("after"))
_DUE_IDS = _DUE_IDS.order_by(Device.id).limit(bindparam("limit"))
_LOCK_DUE = (
    select(Device.approval_expires, Device.failing_rules)
    .where(_due(), _IN_RANGE)
    .order_by(Device.id)
)
_EXPIRED = Device.approval_expires < bindparam("today")
# Which devices of the range each state takes: an expired approval decides first.
_KINDS = {UNAPPROVED: _EXPIRED, STALE: not_(_EXPIRED)}
_EVENT_COLUMNS = ["device_id", "at", "kind", "rule_id", "old", "new", "report_id"]


@dataclass(frozen=True)
class Sweep:
    """One pass's times: today (approvals) and the moment before which a device is silent."""

    today: date
    seen_before: datetime
    now: datetime

    def values(self, after: str, upto: str) -> dict[str, Any]:
        return {"today": self.today, "seen_before": self.seen_before, "after": after, "upto": upto}


def next_batch(connection: Connection, sweep: Sweep, after: str, limit: int) -> str | None:
    """The id that ends the next batch of up to `limit` due devices after `after` (id order),
    or None when none is due; nothing locked (the batch checks again under its lock: a report
    may come in between)."""
    values = {"today": sweep.today, "seen_before": sweep.seen_before}
    ids = connection.scalars(_DUE_IDS, {**values, "after": after, "limit": limit}).all()
    return str(ids[-1]) if ids else None


def sweep_batch(
    connection: Connection, after: str, upto: str, sweep: Sweep, rules: dict[str, str]
) -> int:
    """In the caller's transaction: lock the devices with ids in (after, upto] that are still
    due, then fail each state's rule (rules: state -> rule id) and set the state, with history
    events; returns how many changed."""
    values = sweep.values(after, upto)
    locked = list(connection.execute(locking(connection, _LOCK_DUE), values))
    for state in (UNAPPROVED, STALE):
        rows = [r for r in locked if (r.approval_expires < sweep.today) == (state == UNAPPROVED)]
        if rows:
            _mark(connection, state, rules[state], rows, values, sweep.now)
    return len(locked)


def _evidence(state: str, expires: date) -> str:
    if state == UNAPPROVED:
        return f"approval expired on {expires.isoformat()}"
    return "no report since the last one was received"


def _mark(
    connection: Connection,
    state: str,
    rule_id: str,
    rows: list[Any],
    values: dict[str, Any],
    now: datetime,
) -> None:
    """Set-based over the range: the rule's events and rows, the state events, then the
    devices. A statement per distinct evidence text or failing list (a handful per batch),
    never one per device."""
    these = and_(_due(), _IN_RANGE, _KINDS[state])
    swept = select(Device.id).where(these)
    rule_due = and_(
        RuleState.device_id.in_(swept), RuleState.rule_id == rule_id, RuleState.status != "fail"
    )
    at = literal(now, Event.at.type)
    rule_events = select(
        RuleState.device_id, at, literal("rule"), RuleState.rule_id, RuleState.status,
        literal("fail"), null(),
    ).where(rule_due)  # fmt: skip
    connection.execute(insert(Event).from_select(_EVENT_COLUMNS, rule_events), values)
    by_expiry = {_evidence(state, r.approval_expires): r.approval_expires for r in rows}
    for evidence, expires in by_expiry.items():
        one = swept.where(Device.approval_expires == expires) if state == UNAPPROVED else swept
        changed = update(RuleState).where(rule_due, RuleState.device_id.in_(one))
        changed = changed.values(status="fail", evidence=[evidence], changed_at=now)
        connection.execute(changed, values)
        if state != UNAPPROVED:
            break  # one text for every stale device
    state_events = select(
        Device.id, at, literal("state"), null(), Device.state, literal(state), null()
    ).where(these, Device.state != state)
    connection.execute(insert(Event).from_select(_EVENT_COLUMNS, state_events), values)
    stored: set[str] = set()
    for row in rows:
        stored.add(orjson.dumps(list(row.failing_rules or [])).decode())
    for text in stored:
        # The JSON as stored (orjson's text on both databases) tells the groups apart.
        failing = orjson.loads(text)
        failing = failing if rule_id in failing else [*failing, rule_id]
        group = these if text != "[]" else and_(these, _no_failing())
        devices = update(Device).where(group)
        if text != "[]":
            devices = devices.where(cast(Device.failing_rules, Text) == text)
        # The rule rows no longer match the digest: the next report compares the rows.
        connection.execute(
            devices.values(state=state, failing_rules=failing, rules_digest=None), values
        )


def _no_failing() -> ColumnElement[bool]:
    """An empty failing list, also when a row holds NULL there."""
    text = cast(Device.failing_rules, Text)
    return or_(Device.failing_rules.is_(None), text == "[]", text == "null")
