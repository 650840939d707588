"""Read queries for the API and the dashboard: fleet, device, history, audit, CSV rows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from server_stub.storage.clock import iso
from server_stub.storage.tables import (
    AuditEntry,
    Device,
    EnrolmentToken,
    Event,
    Report,
    RuleState,
)

STATES = (
    "compliant", "non_compliant", "unknown", "stale", "unapproved", "revoked",
    "awaiting_enrolment",
)  # fmt: skip
SORTS = {
    # Case-insensitive, as people read names (an expression index keeps it cheap).
    "name": func.lower(Device.name),
    "state": Device.state,
    "last_seen": Device.last_seen_at,
    "approval_expires": Device.approval_expires,
}
MAX_PAGE = 500
MAX_OFFSET = 10_000_000


@dataclass(frozen=True)
class DeviceQuery:
    state: str | None = None
    search: str | None = None
    sort: str = "name"
    descending: bool = False
    limit: int = 50
    offset: int = 0
    # Devices failing this rule (by id), failing any rule of this severity, of this department.
    rule: str | None = None
    severity: str | None = None
    department: str | None = None


def device_summary(device: Device) -> dict[str, Any]:
    return {
        "id": device.id,
        "name": device.name,
        "owner": device.owner,
        "department": device.department,
        "state": device.state,
        "last_seen_at": iso(device.last_seen_at),
        "approval_expires": device.approval_expires.isoformat(),
        "failing_rules": list(device.failing_rules or []),
    }


def _filtered(query: DeviceQuery) -> Select[Device]:
    statement = select(Device)
    if query.state:
        statement = statement.where(Device.state == query.state)
    if query.department:
        statement = statement.where(Device.department == query.department)
    if query.rule or query.severity:
        failing = select(RuleState.device_id).where(RuleState.status == "fail")
        if query.rule:
            failing = failing.where(RuleState.rule_id == query.rule)
        if query.severity:
            failing = failing.where(RuleState.severity == query.severity)
        statement = statement.where(Device.id.in_(failing))
    search = (query.search or "").replace("\x00", "")
    if search:
        # The search is text, not a pattern: % and _ match themselves.
        escaped = search.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        like = f"%{escaped}%"
        statement = statement.where(
            or_(
                func.lower(Device.name).like(like, escape="\\"),
                func.lower(Device.owner).like(like, escape="\\"),
                func.lower(Device.department).like(like, escape="\\"),
            )
        )
    return statement


def list_devices(session: Session, query: DeviceQuery) -> tuple[list[Device], int]:
    statement = _filtered(query)
    total = session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    column = SORTS.get(query.sort, Device.name)
    order = column.desc() if query.descending else column.asc()
    page = statement.order_by(order, Device.id).limit(min(query.limit, MAX_PAGE))
    return list(session.scalars(page.offset(min(query.offset, MAX_OFFSET)))), total


def counts_by_state(session: Session) -> dict[str, int]:
    rows = session.execute(select(Device.state, func.count()).group_by(Device.state)).all()
    counts = dict.fromkeys(STATES, 0)
    counts.update({str(state): int(count) for state, count in rows})
    return counts


def enrolment_tokens(session: Session, device_id: str) -> list[EnrolmentToken]:
    """A device's enrolment tokens (only their expiry and use: the token itself is kept as a
    hash), latest expiry first."""
    statement = select(EnrolmentToken).where(EnrolmentToken.device_id == device_id)
    return list(session.scalars(statement.order_by(EnrolmentToken.expires_at.desc()).limit(20)))


def rule_counts(session: Session) -> dict[str, dict[str, int]]:
    """rule id -> {"fail": n, "unknown": n}: devices whose latest result is that status (an
    index on status and rule id keeps it to the rows counted)."""
    statement = (
        select(RuleState.rule_id, RuleState.status, func.count())
        .where(RuleState.status.in_(("fail", "unknown")))
        .group_by(RuleState.rule_id, RuleState.status)
    )
    counts: dict[str, dict[str, int]] = {}
    for rule_id, status, count in session.execute(statement):
        counts.setdefault(str(rule_id), {"fail": 0, "unknown": 0})[str(status)] = int(count)
    return counts


def rule_states(session: Session, device_id: str) -> list[RuleState]:
    statement = select(RuleState).where(RuleState.device_id == device_id)
    return list(session.scalars(statement.order_by(RuleState.rule_id)))


def latest_report(session: Session, device: Device) -> dict[str, Any] | None:
    if device.last_report_id is None:
        return None
    report = session.get(Report, device.last_report_id)
    return None if report is None else dict(report.body)


def history(session: Session, device_id: str, limit: int = 500) -> list[Event]:
    statement = select(Event).where(Event.device_id == device_id)
    return list(session.scalars(statement.order_by(Event.at.desc(), Event.id.desc()).limit(limit)))


def audit_entries(session: Session, limit: int = 200, offset: int = 0) -> list[AuditEntry]:
    statement = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    return list(session.scalars(statement.limit(limit).offset(offset)))


def all_devices(session: Session) -> list[Device]:
    return list(session.scalars(select(Device).order_by(Device.name)))
