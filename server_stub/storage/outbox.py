"""The delivery worker's writes to the outbox: fan alerts out to destinations, claim due
deliveries under a lease, record each outcome; and a failed delivery retried by an admin.

Several collector processes share one database: PostgreSQL claims rows FOR UPDATE SKIP LOCKED,
so two workers never take the same row; SQLite has one writer (BEGIN IMMEDIATE). A claim is a
lease: a worker killed mid-delivery leaves its rows to be claimed again once the lease ends, so
a delivery is sent at least once (the alert's uid is its idempotency key for the receiver)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, and_, func, select, update
from sqlalchemy.orm import Session

from server_stub.storage.alerts import insert_ignoring_duplicates
from server_stub.storage.audit import record
from server_stub.storage.clock import utcnow
from server_stub.storage.tables import Alert, AlertDelivery

PENDING, SENDING, DELIVERED, FAILED = "pending", "sending", "delivered", "failed"
DELIVERY_STATES = (PENDING, SENDING, DELIVERED, FAILED)
# A claim's lease by default: long enough for a slow receiver (the senders time out before).
LEASE = timedelta(seconds=60)


def _locked(connection: Connection, statement: Any, table: Any) -> Any:
    """Rows this transaction alone works on: SKIP LOCKED on PostgreSQL (another worker's rows are
    passed over, not waited for); the database's write lock on SQLite."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")
        return statement
    return statement.with_for_update(skip_locked=True, of=table)


def fan_out(engine: Engine, routes: Callable[[str, str], list[str]], limit: int = 500) -> int:
    """Delivery rows for alerts not yet fanned out, one per destination whose route takes the
    alert (routes: severity, department -> destination ids); returns the alerts handled."""
    waiting = select(Alert.id).where(Alert.fanned_out.is_(False)).limit(1)
    with engine.connect() as connection:  # a look without a lock: mostly there is nothing
        if connection.scalar(waiting) is None:
            return 0
    with engine.begin() as connection:
        statement = (
            select(Alert.id, Alert.severity, Alert.department, Alert.created_at)
            .where(Alert.fanned_out.is_(False))
            .order_by(Alert.id)
            .limit(limit)
        )
        alerts = list(connection.execute(_locked(connection, statement, Alert)))
        if not alerts:
            return 0
        rows = [
            {"alert_id": a.id, "destination": destination, "state": PENDING, "attempts": 0,
             "next_attempt_at": a.created_at}
            for a in alerts
            for destination in routes(a.severity, a.department)
        ]  # fmt: skip
        if rows:
            connection.execute(insert_ignoring_duplicates(connection, AlertDelivery), rows)
        done = update(Alert).where(Alert.id.in_([a.id for a in alerts]))
        connection.execute(done.values(fanned_out=True))
    return len(alerts)


@dataclass(frozen=True)
class Claimed:
    """A delivery this worker holds until its lease ends: what to send and where."""

    id: int
    claim: str
    attempts: int  # this attempt included
    destination: str
    uid: str
    payload: dict[str, Any]


def _due(destinations: list[str], now: datetime) -> Any:
    """Pending and due, or claimed by a worker whose lease has ended: a claim sets
    next_attempt_at to the lease's end, so one range on the (state, next_attempt_at) index
    finds both."""
    return and_(
        AlertDelivery.state.in_((PENDING, SENDING)),
        AlertDelivery.next_attempt_at <= now,
        AlertDelivery.destination.in_(destinations),
    )


def claim_due(
    engine: Engine, destinations: list[str], now: datetime, limit: int, lease: timedelta = LEASE
) -> list[Claimed]:
    """Up to `limit` due deliveries to these destinations (pending and due, or claimed by a
    worker whose lease ended), oldest first, leased to this worker."""
    if not destinations:
        return []
    with engine.connect() as connection:
        if connection.scalar(select(AlertDelivery.id).where(_due(destinations, now))) is None:
            return []
    claim = str(uuid.uuid4())
    with engine.begin() as connection:
        statement = (
            select(AlertDelivery.id)
            .where(_due(destinations, now))
            .order_by(AlertDelivery.next_attempt_at, AlertDelivery.id)
            .limit(limit)
        )
        ids = list(connection.scalars(_locked(connection, statement, AlertDelivery)))
        if not ids:
            return []
        leased = update(AlertDelivery).where(AlertDelivery.id.in_(ids))
        connection.execute(
            leased.values(
                state=SENDING,
                claim=claim,
                lease_until=now + lease,
                next_attempt_at=now + lease,
                attempts=AlertDelivery.attempts + 1,
            )
        )
        rows = connection.execute(
            select(AlertDelivery, Alert.uid, Alert.payload)
            .join(Alert, Alert.id == AlertDelivery.alert_id)
            .where(AlertDelivery.id.in_(ids))
            .order_by(AlertDelivery.next_attempt_at, AlertDelivery.id)
        )
        return [
            Claimed(r.id, claim, r.attempts, r.destination, r.uid, dict(r.payload)) for r in rows
        ]


@dataclass(frozen=True)
class Attempt:
    """One send's outcome: delivered (error None), to retry at retry_at, or failed for good."""

    delivery: Claimed
    error: str | None
    retry_at: datetime | None


def finish(engine: Engine, attempts: list[Attempt], now: datetime) -> set[int]:
    """Record the attempts in one transaction (the deliveries in one statement); returns the
    ids recorded: one missing had outlived its lease, and another worker holds it now."""
    if not attempts:
        return set()
    recorded: set[int] = set()
    delivered: dict[str, list[int]] = {}
    with engine.begin() as connection:
        for attempt in attempts:
            done = attempt.delivery
            if attempt.error is None:
                delivered.setdefault(done.claim, []).append(done.id)
                continue
            values: dict[str, Any] = {"claim": None, "lease_until": None}
            values["last_error"] = attempt.error[:300]
            if attempt.retry_at is not None:
                values |= {"state": PENDING, "next_attempt_at": attempt.retry_at}
            else:
                values["state"] = FAILED
            held = and_(AlertDelivery.id == done.id, AlertDelivery.claim == done.claim)
            statement = update(AlertDelivery).where(held).values(**values)
            recorded |= set(connection.scalars(statement.returning(AlertDelivery.id)))
        for claim, ids in delivered.items():
            held = and_(AlertDelivery.id.in_(ids), AlertDelivery.claim == claim)
            statement = (
                update(AlertDelivery)
                .where(held)
                .values(
                    state=DELIVERED, delivered_at=now, last_error=None, claim=None, lease_until=None
                )
            )
            recorded |= set(connection.scalars(statement.returning(AlertDelivery.id)))
    return recorded


def release(engine: Engine, held: list[Claimed], now: datetime) -> None:
    """Give back deliveries claimed but not tried (this attempt uncounted), for any worker."""
    with engine.begin() as connection:
        for done in held:
            mine = and_(AlertDelivery.id == done.id, AlertDelivery.claim == done.claim)
            connection.execute(
                update(AlertDelivery)
                .where(mine)
                .values(
                    state=PENDING,
                    claim=None,
                    lease_until=None,
                    attempts=done.attempts - 1,
                    next_attempt_at=now,
                )
            )


def retry_failed(session: Session, delivery_id: int, actor: str) -> bool:
    """An admin sends a failed delivery again (its attempts start over), audit-logged; False
    when there is no such failed delivery."""
    delivery = session.get(AlertDelivery, delivery_id, with_for_update=True)
    if delivery is None or delivery.state != FAILED:
        return False
    delivery.state, delivery.attempts = PENDING, 0
    delivery.next_attempt_at = utcnow()
    record(session, actor, "retry_alert_delivery", delivery.destination, f"delivery {delivery_id}")
    return True


def counts_by_destination(session: Session) -> dict[str, dict[str, int]]:
    """destination id -> state -> deliveries."""
    statement = select(
        AlertDelivery.destination, AlertDelivery.state, func.count(AlertDelivery.id)
    ).group_by(AlertDelivery.destination, AlertDelivery.state)
    found: dict[str, dict[str, int]] = {}
    for destination, state, count in session.execute(statement):
        found.setdefault(destination, dict.fromkeys(DELIVERY_STATES, 0))[state] = count
    return found
