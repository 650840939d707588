"""Stores an accepted report: deduplicates, evaluates, records rule and state changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from agent.policy import Policy, RuleResult
from agent.policy.operations import parse_timestamp
from server_stub.evaluation import CollectorFacts, device_state, evaluate_report
from server_stub.storage.clock import iso
from server_stub.storage.tables import Device, Event, Report, RuleState


class ReportConflict(Exception):
    """The report id is already used by another device."""


@dataclass(frozen=True)
class IngestResult:
    duplicate: bool
    state: str
    failing: list[str]


def _record_rules(
    session: Session, device: Device, results: list[RuleResult], report_id: str, now: datetime
) -> None:
    """Write only what changed: a rule whose status or evidence moved, an event per status
    change. Core statements, not ORM objects: this runs for every report."""
    current = {
        rule_id: (status, evidence)
        for rule_id, status, evidence in session.execute(
            select(RuleState.rule_id, RuleState.status, RuleState.evidence).where(
                RuleState.device_id == device.id
            )
        )
    }
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for result in results:
        row: dict[str, Any] = {
            "device_id": device.id,
            "rule_id": result.id,
            "status": result.status,
            "title": result.title,
            "severity": result.severity,
            "evidence": result.evidence,
            "remediation": result.remediation,
        }
        known = current.get(result.id)
        if known is None:
            inserts.append({**row, "changed_at": now})
        elif known[0] != result.status:
            updates.append({**row, "changed_at": now})
        elif known[1] != result.evidence:
            updates.append(row)
        if known is None or known[0] != result.status:
            events.append(
                {
                    "device_id": device.id,
                    "at": now,
                    "kind": "rule",
                    "rule_id": result.id,
                    "old": known[0] if known else None,
                    "new": result.status,
                    "report_id": report_id,
                }
            )
    if inserts:
        session.execute(insert(RuleState), inserts)
    for changes in _by_keys(updates):  # executemany needs the same columns in every row
        session.execute(update(RuleState), changes)
    if events:
        session.execute(insert(Event), events)


def _by_keys(rows: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(sorted(row)), []).append(row)
    return list(groups.values())


def set_state(
    session: Session, device: Device, new: str, now: datetime, report_id: str | None = None
) -> None:
    if device.state != new:
        session.add(
            Event(
                device_id=device.id,
                at=now,
                kind="state",
                old=device.state,
                new=new,
                report_id=report_id,
            )
        )
        device.state = new


def _collected_at(report: dict[str, Any], now: datetime) -> str:
    """The report's time, never later than its arrival: a laptop whose clock runs ahead must
    not make every later report look older than it."""
    collected = parse_timestamp(str(report["collected_at"]))
    return iso(min(collected, now)) or ""


def store_report(
    session: Session,
    device: Device,
    report: dict[str, Any],
    source_ip: str,
    policy: Policy,
    now: datetime,
) -> IngestResult:
    """Everything in the caller's transaction, on a device it has locked (device_by_secret
    with lock_at); a resent report changes nothing."""
    device.last_seen_at = now
    report_id = str(report["report_id"])
    facts = CollectorFacts(
        source_ip=source_ip,
        approved=device.revoked_at is None,
        approval_expires=device.approval_expires,
        last_seen_at=now,
    )
    results = evaluate_report(policy, report, facts, now)
    state = device_state(results, revoked=device.revoked_at is not None)
    collected = _collected_at(report, now)
    row = {
        "id": report_id,
        "device_id": device.id,
        "received_at": now,
        "collected_at": collected,
        "source_ip": source_ip,
        "verdict": state,
        "body": report,
    }
    # One statement both stores and deduplicates: a resent report inserts nothing.
    insert = sqlite_insert if session.get_bind().dialect.name == "sqlite" else pg_insert
    stored = session.execute(
        insert(Report)
        .values(row)
        .on_conflict_do_nothing(index_elements=["id"])
        .returning(Report.id)
    ).first()
    if stored is None:
        owner = session.scalar(select(Report.device_id).where(Report.id == report_id))
        if owner != device.id:
            raise ReportConflict(report_id)
        return IngestResult(duplicate=True, state=device.state, failing=device.failing_rules)
    device.reports_received += 1  # safe: the device is locked until commit
    device.last_source_ip = source_ip
    # A late report (spooled while offline) joins the history but does not overwrite a newer one.
    if device.last_collected_at is None or collected >= device.last_collected_at:
        device.last_collected_at = collected
        device.last_report_id = report_id
        device.failing_rules = [r.id for r in results if r.status == "fail"]
        _record_rules(session, device, results, report_id, now)
        set_state(session, device, state, now, report_id)
    return IngestResult(duplicate=False, state=device.state, failing=device.failing_rules)
