"""Stores a batch of reports in one transaction: authenticate, deduplicate, evaluate, record."""

from __future__ import annotations

import functools
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from agent.policy import Evaluator, RuleResult
from agent.report import parse_timestamp
from server_stub.ingest.alerts import AlertDrafts
from server_stub.ingest.authentication import authenticate_submission
from server_stub.ingest.evaluation import CollectorFacts, device_state, evaluate_report
from server_stub.ingest.grace import NOTHING, Grace, StoredRow, judge_results, needs_stored, notes
from server_stub.ingest.outcomes import DEVICE_FAULTS, ID_TAKEN, Accepted, Outcome, Refused
from server_stub.ingest.reading import Submission
from server_stub.storage.clock import iso
from server_stub.storage.device_writes import DeviceRow, lock_devices_by_secret, write_devices
from server_stub.storage.exceptions import Holding, holding
from server_stub.storage.report_rows import insert_reports, report_owners
from server_stub.storage.rule_changes import RuleChanges, rules_digest, stored_rules


def rule_rows(device_id: str, results: list[RuleResult]) -> list[dict[str, Any]]:
    """A report's results as rule_states rows (without changed_at)."""
    return [
        {
            "device_id": device_id,
            "rule_id": r.id,
            "status": r.status,
            "title": r.title,
            "severity": r.severity,
            "evidence": r.evidence,
            "remediation": r.remediation,
        }
        for r in results
    ]


@dataclass
class _Candidate:
    """An authenticated report, evaluated, not yet known to be new."""

    index: int
    item: Submission
    device: DeviceRow
    report_id: str
    collected_at: str
    results: list[RuleResult]
    state: str
    rule_rows: list[dict[str, Any]]
    digest: str
    notes: dict[str, dict[str, str]] = field(default_factory=dict)  # due and excepted rules


def _clock_offset(collected: datetime, sent_at: datetime | None, now: datetime) -> timedelta:
    """How far the device's clock is from ours (+ fast). Judged by when it sent the report
    (its HTTP Date), since a report that waited in the spool was collected long before; but a
    report that claims to be collected after it was sent was made by a clock ahead by at least
    that much. Without a Date, by when it was collected."""
    if sent_at is None:
        return collected - now
    offset, made_ahead = sent_at - now, collected - sent_at
    return made_ahead if made_ahead > abs(offset) else offset


def _evaluate(
    index: int, item: Submission, device: DeviceRow, evaluator: Evaluator, now: datetime
) -> _Candidate:
    assert item.report is not None
    # The device's own time, as it claims it: its distance from ours is a collector fact.
    collected = parse_timestamp(str(item.report["collected_at"]))
    offset = _clock_offset(collected, item.sent_at, now)
    facts = CollectorFacts(
        source_ip=item.source_ip,
        approved=True,  # a revoked device never gets this far
        approval_expires=device.approval_expires,
        last_seen_at=now,
        clock_offset_s=offset.total_seconds(),
    )
    results = evaluate_report(evaluator, item.report, facts, now)
    rows = rule_rows(device.id, results)
    return _Candidate(
        index=index,
        item=item,
        device=device,
        report_id=str(item.report["report_id"]),
        collected_at=iso(collected) or "",
        results=results,
        state=device_state(results, revoked=False),
        rule_rows=rows,
        digest=rules_digest(rows),
    )


def _report_rows(candidates: list[_Candidate], now: datetime) -> list[dict[str, Any]]:
    return [
        {
            "id": c.report_id,
            "device_id": c.device.id,
            "received_at": now,
            "collected_at": c.collected_at,
            "source_ip": c.item.source_ip,
            "verdict": c.state,
            "body": c.item.report,
        }
        for c in candidates
    ]


def ingest_batch(
    connection: Connection,
    items: list[Submission],
    evaluator: Evaluator,
    now: datetime,
    grace: Grace | None = None,
) -> list[Outcome]:
    """Everything in the caller's transaction; one answer per item, in order. A resent report
    changes nothing but the device's last_seen_at."""
    devices = lock_devices_by_secret(connection, {i.secret_hash for i in items if i.secret_hash})
    answers: list[Outcome | None] = [None] * len(items)
    candidates: list[_Candidate] = []
    first_ids: set[str] = set()  # a report id sent twice in one batch is stored once
    repeats: list[tuple[int, str, DeviceRow]] = []
    alerts = AlertDrafts()  # written in this transaction, with the changes that cause them
    for index, item in enumerate(items):
        checked = authenticate_submission(item, devices)
        if isinstance(checked, Refused):
            answers[index] = checked
            if checked.kind in DEVICE_FAULTS and item.secret_hash:
                _count_refusal(devices[item.secret_hash], checked, now, alerts)
            continue
        assert item.report is not None
        report_id = str(item.report["report_id"])
        if report_id in first_ids:
            repeats.append((index, report_id, checked))
            continue
        first_ids.add(report_id)
        candidates.append(_evaluate(index, item, checked, evaluator, now))

    new_ids = insert_reports(connection, _report_rows(candidates, now))
    duplicates = _refuse_taken_ids(connection, candidates, repeats, new_ids, answers, now, alerts)
    fresh = [c for c in candidates if c.report_id in new_ids]
    grace = grace or {}
    holds = holding(connection, {c.device.id for c in fresh}, now)  # one read: exceptions
    # Judged in the loop below, after the stored rows are read: a grace rule's failure (since
    # when?), and every report of a device that sent several (each follows the one before).
    reports_of = Counter(c.device.id for c in fresh)
    later = {
        c.report_id
        for c in fresh
        if reports_of[c.device.id] > 1 or needs_stored(c.results, grace, c.device.failing_rules)
    }
    for candidate in fresh:
        if candidate.report_id not in later:
            _allow(candidate, lambda _: None, holds, grace, now)
    changed = {c.device.id for c in fresh if c.digest != c.device.rules_digest}
    changed |= {c.device.id for c in fresh if c.report_id in later}
    changes = RuleChanges(stored_rules(connection, changed))
    for candidate in fresh:  # in arrival order; each answer is the state its report left
        device = candidate.device
        if candidate.report_id in later:
            _allow(candidate, functools.partial(changes.row, device.id), holds, grace, now)
        _apply(candidate, changes, now, alerts)
        device.last_seen_at, device.touched = now, True
        answers[candidate.index] = Accepted(
            False, device.state, list(device.failing_rules), candidate.notes
        )
    for index, device in duplicates:
        device.last_seen_at, device.touched = now, True  # a resend, too, shows it is alive
        answers[index] = Accepted(True, device.state, list(device.failing_rules))
    changes.write(connection)
    write_devices(connection, list(devices.values()))
    alerts.write(connection)
    assert all(a is not None for a in answers), "every item is answered"
    return [a for a in answers if a is not None]


def _allow(
    candidate: _Candidate,
    stored: StoredRow,
    holds: dict[str, dict[str, Holding]],
    grace: Grace,
    now: datetime,
) -> None:
    """Grace periods and exceptions on a report's results (nothing to do for most reports)."""
    device = candidate.device
    judged = judge_results(
        candidate.results, stored, holds.get(device.id, {}), grace, now, device.failing_rules
    )
    if judged is None:
        return
    results, extra = judged
    rows = rule_rows(candidate.device.id, results)
    for row in rows:
        row.update(extra.get(row["rule_id"], NOTHING))
    candidate.results, candidate.rule_rows, candidate.digest = results, rows, rules_digest(rows)
    candidate.state = device_state(results, revoked=False)
    candidate.notes = notes(extra)


def _apply(candidate: _Candidate, changes: RuleChanges, now: datetime, alerts: AlertDrafts) -> None:
    """A new report on its device's row, in memory; rule and state changes become events and
    alerts."""
    device = candidate.device
    device.reports_received += 1
    device.last_source_ip = candidate.item.source_ip
    # The report received last is the device's state, whatever its own clock says: a clock set
    # back must not hide a firewall turned off. The agent sends its spool oldest first.
    device.last_collected_at = candidate.collected_at
    device.last_report_id = candidate.report_id
    device.failing_rules = [r.id for r in candidate.results if r.status == "fail"]
    critical_before: dict[str, str | None] | None = None
    if candidate.digest != device.rules_digest:
        critical_before = _critical_failures_before(candidate, changes)
        changes.apply(candidate.rule_rows, candidate.report_id, now)
        device.rules_digest = candidate.digest
    state_alert = False
    if candidate.state != device.state:
        changes.record(
            device.id, candidate.report_id, "state", None, device.state, candidate.state, now
        )
        state_alert = alerts.state_changed(
            device.id, candidate.report_id, device.state, candidate.state,
            candidate.results, device.approval_expires, now,
        )  # fmt: skip
        device.state = candidate.state
    if critical_before and not state_alert:  # a state alert names every failing rule already
        alerts.critical_failed(
            device.id, candidate.report_id, candidate.results, critical_before, now
        )


def _critical_failures_before(candidate: _Candidate, changes: RuleChanges) -> dict[str, str | None]:
    """The status before this report of each critical rule it fails (None: never evaluated)."""
    before: dict[str, str | None] = {}
    for result in candidate.results:
        if result.severity == "critical" and result.status == "fail":
            row = changes.row(candidate.device.id, result.id)
            before[result.id] = None if row is None else str(row["status"])
    return before


def _refuse_taken_ids(
    connection: Connection,
    candidates: list[_Candidate],
    repeats: list[tuple[int, str, DeviceRow]],
    new_ids: set[str],
    answers: list[Outcome | None],
    now: datetime,
    alerts: AlertDrafts,
) -> list[tuple[int, DeviceRow]]:
    """A report id that inserted nothing is a resend from the same device (returned, to be
    answered as a duplicate) or an id another device already used (ID_TAKEN, set in answers)."""
    owners = report_owners(
        connection, [c.report_id for c in candidates if c.report_id not in new_ids]
    )
    for candidate in candidates:
        if candidate.report_id in new_ids:
            owners[candidate.report_id] = candidate.device.id
    duplicates = []
    resent = [(c.index, c.report_id, c.device) for c in candidates if c.report_id not in new_ids]
    for index, report_id, device in resent + repeats:
        if owners.get(report_id) == device.id:
            duplicates.append((index, device))
        else:
            answers[index] = ID_TAKEN
            _count_refusal(device, ID_TAKEN, now, alerts)
    return duplicates


def _count_refusal(device: DeviceRow, refused: Refused, now: datetime, alerts: AlertDrafts) -> None:
    """A report of this device refused for good, counted on its row with the latest reason,
    and an alert."""
    device.reports_refused += 1
    device.last_refused_at = now
    device.last_refusal = f"{refused.kind.value}: {refused.message}"[:300]
    device.touched = True
    alerts.refused(device.id, device.reports_refused, device.last_refusal, now)
