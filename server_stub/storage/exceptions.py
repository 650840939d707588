"""Rule exceptions: granted and revoked (audit-logged), the ones holding for a batch's devices,
the expired ones the sweeper has not yet ended, and lists for the pages and the evidence."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Connection,
    Row,
    and_,
    bindparam,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.orm import Session

from server_stub.storage.audit import record
from server_stub.storage.clock import as_utc
from server_stub.storage.tables import Device, RuleException


@dataclass(frozen=True)
class Holding:
    """An exception that holds for a rule on a device: who granted it and until when."""

    granted_by: str
    until: datetime


def _holding_now() -> ColumnElement[bool]:
    return and_(
        RuleException.revoked_at.is_(None),
        RuleException.ended_at.is_(None),
        RuleException.expires_at > bindparam("now"),
    )


_COLUMNS = (RuleException.rule_id, RuleException.granted_by, RuleException.expires_at)
# Two indexed reads in one statement: by device id, and by the devices' departments.
_HOLDING: CompoundSelect[Any] = union_all(
    select(RuleException.device_id, *_COLUMNS).where(
        RuleException.device_id.in_(bindparam("ids", expanding=True)), _holding_now()
    ),
    select(Device.id, *_COLUMNS)
    .join(Device, Device.department == RuleException.department)
    .where(Device.id.in_(bindparam("ids", expanding=True)), _holding_now()),
)


def holding(
    connection: Connection, device_ids: set[str], now: datetime
) -> dict[str, dict[str, Holding]]:
    """device id -> rule id -> the exception that holds longest now (one statement)."""
    if not device_ids:
        return {}
    found: dict[str, dict[str, Holding]] = {}
    for device_id, rule_id, granted_by, until in connection.execute(
        _HOLDING, {"ids": sorted(device_ids), "now": now}
    ):
        rules = found.setdefault(device_id, {})
        until = as_utc(until)  # SQLite: naive; stored_rules' excepted_until is aware
        known = rules.get(rule_id)
        if known is None or known.until < until:
            rules[rule_id] = Holding(granted_by, until)
    return found


def grant(
    session: Session,
    *,
    rule_id: str,
    device_id: str | None,
    department: str | None,
    reason: str,
    mitigation: str,
    expires_at: datetime,
    actor: str,
    now: datetime,
) -> RuleException:
    """A new exception for one device or one department, in the audit log."""
    if (device_id is None) == (department is None):
        raise ValueError("an exception is for one device or for one department")
    granted = RuleException(
        rule_id=rule_id, device_id=device_id, department=department, reason=reason,
        mitigation=mitigation, granted_by=actor, granted_at=now, expires_at=expires_at,
    )  # fmt: skip
    session.add(granted)
    session.flush()
    target = f"device {device_id}" if device_id else f"department {department}"
    until = expires_at.strftime("%Y-%m-%dT%H:%MZ")
    record(
        session, actor, "exception.grant", f"{rule_id} on {target}",
        f"#{granted.id} until {until}; reason: {reason}; mitigation: {mitigation}",
    )  # fmt: skip
    return granted


def revoke(session: Session, exception_id: int, actor: str, now: datetime) -> RuleException | None:
    """End an exception early, in the audit log; None when there is no such open exception."""
    # One conditional UPDATE, not read-then-write: of two collectors revoking at once, only the
    # one whose UPDATE finds the row still open revokes it and writes the audit entry.
    revoked = session.connection().execute(
        update(RuleException)
        .where(
            RuleException.id == exception_id,
            RuleException.revoked_at.is_(None),
            RuleException.ended_at.is_(None),
        )
        .values(revoked_at=now, revoked_by=actor)
    )
    if revoked.rowcount != 1:
        return None
    found = session.scalars(
        select(RuleException)
        .where(RuleException.id == exception_id)
        .execution_options(populate_existing=True)
    ).one()
    target = f"device {found.device_id}" if found.device_id else f"department {found.department}"
    record(session, actor, "exception.revoke", f"{found.rule_id} on {target}", f"#{found.id}")
    return found


def covered_devices(
    connection: Connection, device_id: str | None, department: str | None
) -> list[str]:
    """The ids of the (not revoked) devices an exception is for."""
    if device_id is not None:
        return [device_id]
    statement = select(Device.id).where(
        Device.department == department, Device.revoked_at.is_(None)
    )
    return [str(i) for i in connection.scalars(statement)]


_EXPIRED = (
    select(
        RuleException.id, RuleException.rule_id, RuleException.device_id,
        RuleException.department, RuleException.expires_at, RuleException.granted_by,
    )
    .where(
        RuleException.revoked_at.is_(None),
        RuleException.ended_at.is_(None),
        RuleException.expires_at <= bindparam("now"),
    )
    .order_by(RuleException.id)
)  # fmt: skip
_END = (
    update(RuleException)
    .where(RuleException.id == bindparam("k_id"), RuleException.ended_at.is_(None))
    .values(ended_at=bindparam("now"))
)


def expired(connection: Connection, now: datetime) -> list[Row[Any]]:
    """Exceptions past their expiry that the sweeper has not yet ended (id, rule_id, device_id,
    department, expires_at, granted_by)."""
    return list(connection.execute(_EXPIRED, {"now": now}))


def end(connection: Connection, exception_id: int, now: datetime) -> bool:
    """Mark one expired; False when another collector (or pass) already did: it alerts once."""
    return connection.execute(_END, {"k_id": exception_id, "now": now}).rowcount == 1


def for_device(session: Session, device_id: str, department: str) -> list[RuleException]:
    """Every exception for this device or its department, newest first."""
    statement = (
        select(RuleException)
        .where(or_(RuleException.device_id == device_id, RuleException.department == department))
        .order_by(RuleException.granted_at.desc(), RuleException.id.desc())
    )
    return list(session.scalars(statement))
