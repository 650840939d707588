"""The alerts outbox: alerts written in the caller's transaction, once per key; reads for pages."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Insert, bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from server_stub.storage.tables import Alert, AlertDelivery, Device

_PEOPLE = select(Device.id, Device.name, Device.owner, Device.department).where(
    Device.id.in_(bindparam("ids", expanding=True))
)


@dataclass
class AlertDraft:
    """An alert to write: the change (kind, key), its severity and what it says. The device's
    name, owner and department are added from its row when written."""

    key: str
    kind: str
    severity: str
    device_id: str
    at: datetime
    title: str
    detail: str
    rules: list[dict[str, Any]] = field(default_factory=list)
    state: dict[str, str | None] = field(default_factory=dict)


def device_path(device_id: str) -> str:
    """The device's page on the dashboard; each destination adds the collector's public URL."""
    return f"/devices/{device_id}"


def insert_ignoring_duplicates(connection: Connection, table: Any) -> Insert:
    """INSERT ... ON CONFLICT DO NOTHING on either database: a key already written stays."""
    if connection.dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    return sqlite.insert(table).on_conflict_do_nothing()


def insert_alerts(connection: Connection, drafts: list[AlertDraft]) -> None:
    """In the caller's transaction; a draft whose key is already written is dropped."""
    if not drafts:
        return
    ids = sorted({d.device_id for d in drafts})
    people = {row.id: row for row in connection.execute(_PEOPLE, {"ids": ids})}
    rows = []
    for draft in drafts:
        who = people[draft.device_id]
        device = {"id": who.id, "name": who.name, "owner": who.owner}
        payload = {
            "kind": draft.kind,
            "severity": draft.severity,
            "title": draft.title.format(name=who.name),
            "detail": draft.detail,
            "at": draft.at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "device": {**device, "department": who.department},
            "state": draft.state,
            "rules": draft.rules,
            "path": device_path(who.id),
        }
        rows.append(
            {
                "key": draft.key[:200],
                "uid": str(uuid.uuid4()),
                "created_at": draft.at,
                "kind": draft.kind,
                "severity": draft.severity,
                "device_id": draft.device_id,
                "department": who.department,
                "payload": payload,
                "fanned_out": False,
            }
        )
    connection.execute(insert_ignoring_duplicates(connection, Alert), rows)


def existing_keys(connection: Connection, keys: list[str]) -> set[str]:
    """Which of these keys have an alert already."""
    if not keys:
        return set()
    return set(connection.scalars(select(Alert.key).where(Alert.key.in_(keys))))


@dataclass(frozen=True)
class DeliveryView:
    """A delivery as the dashboard lists it."""

    id: int
    alert_id: int
    created_at: datetime
    kind: str
    severity: str
    title: str
    device_id: str
    destination: str
    state: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    delivered_at: datetime | None


def recent_deliveries(session: Session, limit: int, state: str | None = None) -> list[DeliveryView]:
    """The newest deliveries first (optionally only those in one state)."""
    statement = (
        select(Alert, AlertDelivery)
        .join(AlertDelivery, AlertDelivery.alert_id == Alert.id)
        .order_by(AlertDelivery.id.desc())
        .limit(limit)
    )
    if state:
        statement = statement.where(AlertDelivery.state == state)
    views = []
    for alert, delivery in session.execute(statement):
        views.append(
            DeliveryView(
                id=delivery.id,
                alert_id=alert.id,
                created_at=alert.created_at,
                kind=alert.kind,
                severity=alert.severity,
                title=str(alert.payload.get("title", "")),
                device_id=alert.device_id,
                destination=delivery.destination,
                state=delivery.state,
                attempts=delivery.attempts,
                next_attempt_at=delivery.next_attempt_at,
                last_error=delivery.last_error,
                delivered_at=delivery.delivered_at,
            )
        )
    return views


def recent_alerts(session: Session, limit: int) -> list[Alert]:
    """The newest alerts first."""
    return list(session.scalars(select(Alert).order_by(Alert.id.desc()).limit(limit)))
