"""Audit evidence for a period, per device, from its history: approval, the share of the time
it was compliant, every rule violation with its start, end and duration, and the exceptions
that held for it in the period."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import groupby
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server_stub.storage.clock import as_utc
from server_stub.storage.tables import AuditEntry, Device, Event, RuleException


@dataclass(frozen=True)
class Violation:
    """A rule failing on the device: from start until end (None: still failing at the end of
    the period), clipped to the period."""

    rule_id: str
    start: datetime
    end: datetime | None
    seconds: float


@dataclass(frozen=True)
class ExceptionHeld:
    """An exception for the device (or its department) that held during part of the period:
    granted at `start`, ended at `end` (its expiry, or when it was revoked)."""

    rule_id: str
    scope: str  # "device" or "department"
    granted_by: str
    start: datetime
    end: datetime
    revoked_by: str | None
    reason: str
    mitigation: str


@dataclass
class DeviceEvidence:
    """One device over the period."""

    id: str
    name: str
    owner: str
    department: str
    approved_by: str
    approval_expires: date
    registered_at: datetime
    revoked_at: datetime | None
    observed_s: float = 0.0  # the part of the period the device was registered
    compliant_s: float = 0.0
    violations: list[Violation] = field(default_factory=list)
    exceptions: list[ExceptionHeld] = field(default_factory=list)

    @property
    def compliant_share(self) -> float | None:
        """Compliant time over the registered time of the period (None: not registered)."""
        return self.compliant_s / self.observed_s if self.observed_s > 0 else None


def _seconds(start: datetime, end: datetime) -> float:
    return max(0.0, (end - start).total_seconds())


def _walk(device: DeviceEvidence, events: list[Any], start: datetime, end: datetime) -> None:
    """The device's state and rule events, oldest first, up to the period's end."""
    begin = max(start, as_utc(device.registered_at))
    stop = min(end, as_utc(device.revoked_at)) if device.revoked_at else end
    device.observed_s = _seconds(begin, stop)
    state, since = "unknown", begin
    failing: dict[str, datetime] = {}  # rule id -> failing since
    for event in events:
        at = as_utc(event.at)
        if event.kind == "state":
            if at > begin:
                if state == "compliant":
                    device.compliant_s += _seconds(since, min(at, stop))
                since = min(max(at, begin), stop)
            state = event.new
        elif event.rule_id is not None:
            if event.new == "fail" and event.rule_id not in failing:
                failing[event.rule_id] = at
            elif event.new != "fail" and event.rule_id in failing:
                opened = failing.pop(event.rule_id)
                if at > begin:
                    device.violations.append(_clipped(event.rule_id, opened, at, begin))
    if state == "compliant":
        device.compliant_s += _seconds(since, stop)
    for rule_id, opened in failing.items():
        device.violations.append(_clipped(rule_id, opened, None, begin, stop))
    if device.observed_s == 0:  # not registered during the period: nothing to show
        device.compliant_s, device.violations = 0.0, []
    device.violations.sort(key=lambda v: (v.start, v.rule_id))


def _clipped(
    rule_id: str,
    opened: datetime,
    closed: datetime | None,
    begin: datetime,
    stop: datetime | None = None,
) -> Violation:
    first = max(opened, begin)
    last = closed if closed is not None else stop
    assert last is not None
    return Violation(rule_id, first, closed, _seconds(first, last))


def evidence(session: Session, start: datetime, end: datetime) -> list[DeviceEvidence]:
    """Every device registered before the period's end, by name; `end` is exclusive and at
    most now (the caller's). One query for the history, read in chunks."""
    devices = session.scalars(
        select(Device).where(Device.registered_at < end).order_by(Device.name)
    ).all()
    found = {
        d.id: DeviceEvidence(
            d.id, d.name, d.owner, d.department, d.approved_by, d.approval_expires,
            d.registered_at, d.revoked_at,
        )
        for d in devices
    }  # fmt: skip
    history = session.execute(
        select(Event.device_id, Event.at, Event.kind, Event.rule_id, Event.new)
        .where(Event.at < end)
        .order_by(Event.device_id, Event.at, Event.id)
        .execution_options(yield_per=5000)
    )
    walked: set[str] = set()
    for device_id, events in groupby(history, key=lambda row: row.device_id):
        if device_id in found:
            _walk(found[device_id], list(events), start, end)
            walked.add(device_id)
    for device_id in found.keys() - walked:
        _walk(found[device_id], [], start, end)
    _exceptions(session, list(found.values()), start, end)
    return list(found.values())


def _exceptions(
    session: Session, devices: list[DeviceEvidence], start: datetime, end: datetime
) -> None:
    """Each device's exceptions that held in [start, end): one query over the period's."""
    overlapping = session.scalars(
        select(RuleException)
        .where(RuleException.granted_at < end, RuleException.expires_at > start)
        .order_by(RuleException.granted_at, RuleException.id)
    ).all()
    by_department: dict[str, list[DeviceEvidence]] = {}
    by_id = {d.id: d for d in devices}
    for device in devices:
        by_department.setdefault(device.department, []).append(device)
    for found in overlapping:
        ended = as_utc(found.expires_at)
        if found.revoked_at is not None:
            if as_utc(found.revoked_at) <= start:
                continue
            ended = min(ended, as_utc(found.revoked_at))
        held = ExceptionHeld(
            found.rule_id, "device" if found.device_id else "department", found.granted_by,
            as_utc(found.granted_at), ended, found.revoked_by, found.reason, found.mitigation,
        )  # fmt: skip
        if found.device_id is not None:
            targets = [by_id[found.device_id]] if found.device_id in by_id else []
        else:
            targets = by_department.get(found.department or "", [])
        for device in targets:
            if device.observed_s > 0:
                device.exceptions.append(held)


def audit_entries_between(session: Session, start: datetime, end: datetime) -> list[AuditEntry]:
    """The audit log of the period, oldest first."""
    statement = select(AuditEntry).where(AuditEntry.at >= start, AuditEntry.at < end)
    return list(session.scalars(statement.order_by(AuditEntry.at, AuditEntry.id)))
