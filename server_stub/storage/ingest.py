"""Stores a batch of reports in one transaction: authenticate, deduplicate, evaluate, record."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from agent.policy import Evaluator, RuleResult
from agent.report import parse_timestamp
from server_stub.evaluation import CollectorFacts, device_state, evaluate_report
from server_stub.storage.clock import iso
from server_stub.storage.rule_changes import RuleChanges, rule_rows, rules_digest, stored_rules
from server_stub.storage.tables import Device, Report


@dataclass(frozen=True)
class Refusal:
    """Why a report was not stored: the HTTP status and detail to answer with."""

    status: int
    detail: Any  # a message, or {"message", "errors"} for a schema violation
    headers: Mapping[str, str] | None = None


@dataclass(frozen=True)
class Accepted:
    duplicate: bool
    state: str
    failing: list[str]


@dataclass(frozen=True)
class Submission:
    """One report as the HTTP layer read it. A fault in the body is answered only once the
    secret is known to be good, so a caller without one learns nothing about its report."""

    secret_hash: str | None
    report: dict[str, Any] | None
    body_error: Refusal | None
    source_ip: str


UNAUTHORISED = {"WWW-Authenticate": "Bearer"}
NO_SECRET = Refusal(401, "a device secret is required (Authorization: Bearer ...)", UNAUTHORISED)
UNKNOWN_SECRET = Refusal(401, "unknown device secret", UNAUTHORISED)
REVOKED = Refusal(403, "this device has been revoked")
WRONG_DEVICE = Refusal(422, "device_id does not match the enrolled device")
OTHER_MACHINE = Refusal(403, "this device secret is bound to another machine")
ID_TAKEN = Refusal(409, "this report id belongs to another device")


@dataclass
class _Device:
    """A locked device row, changed in memory by each report and written once per batch."""

    id: str
    revoked_at: datetime | None
    hardware_id_hash: str | None
    approval_expires: date
    state: str
    failing_rules: list[str]
    last_collected_at: str | None
    last_report_id: str | None
    last_source_ip: str | None
    reports_received: int
    rules_digest: str | None
    last_seen_at: datetime | None = None
    touched: bool = False


_DEVICE_COLUMNS = (
    Device.secret_hash,
    Device.id,
    Device.revoked_at,
    Device.hardware_id_hash,
    Device.approval_expires,
    Device.state,
    Device.failing_rules,
    Device.last_collected_at,
    Device.last_report_id,
    Device.last_source_ip,
    Device.reports_received,
    Device.rules_digest,
)


# Statements are built once: SQLAlchemy then reuses each one's cache key and compiled form
# instead of rebuilding them for every batch.
_SELECT_DEVICES = select(*_DEVICE_COLUMNS).where(
    Device.secret_hash.in_(bindparam("hashes", expanding=True))
)
_LOCK_DEVICES = _SELECT_DEVICES.order_by(Device.id).with_for_update()
_INSERT_REPORTS = {
    name: dialect_insert(Report).on_conflict_do_nothing(index_elements=["id"]).returning(Report.id)
    for name, dialect_insert in (("sqlite", sqlite_insert), ("postgresql", pg_insert))
}
_REPORT_OWNERS = select(Report.id, Report.device_id).where(
    Report.id.in_(bindparam("ids", expanding=True))
)
_UPDATE_DEVICES = update(Device).where(Device.id == bindparam("k_id"))


def _lock_devices(connection: Connection, hashes: set[str]) -> dict[str, _Device]:
    """The devices holding these secrets, locked until the transaction ends (PostgreSQL: FOR
    UPDATE in id order, so two collectors never deadlock; SQLite: BEGIN IMMEDIATE takes the
    database's write lock before anything is read)."""
    statement = _LOCK_DEVICES
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")
        statement = _SELECT_DEVICES
    found: dict[str, _Device] = {}
    rows = connection.execute(statement, {"hashes": list(hashes)}) if hashes else ()
    for secret_hash, *values in rows:
        row = _Device(*values)
        row.failing_rules = list(row.failing_rules or [])
        found[str(secret_hash)] = row
    return found


def _authenticate(item: Submission, devices: dict[str, _Device]) -> _Device | Refusal:
    """401 unknown, 403 revoked, then the body's own fault, then the checks that need both."""
    if item.secret_hash is None:
        return NO_SECRET
    device = devices.get(item.secret_hash)
    if device is None:
        return UNKNOWN_SECRET
    if device.revoked_at is not None:
        return REVOKED
    if item.body_error is not None:
        return item.body_error
    assert item.report is not None
    if item.report["device_id"] != device.id:
        return WRONG_DEVICE
    hardware = item.report["host"]["hardware_id_hash"]
    if device.hardware_id_hash and hardware != device.hardware_id_hash:
        # Null included: a copied secret must not work from a machine that hides its identity.
        return OTHER_MACHINE
    return device


@dataclass
class _Candidate:
    """An authenticated report, evaluated, not yet known to be new."""

    index: int
    item: Submission
    device: _Device
    report_id: str
    collected_at: str
    results: list[RuleResult]
    state: str
    rule_rows: list[dict[str, Any]]
    digest: str


def _collected_at(report: dict[str, Any], now: datetime) -> str:
    """The report's time, never later than its arrival: a laptop whose clock runs ahead must
    not make every later report look older than it."""
    collected = parse_timestamp(str(report["collected_at"]))
    return iso(min(collected, now)) or ""


def _evaluate(
    index: int, item: Submission, device: _Device, evaluator: Evaluator, now: datetime
) -> _Candidate:
    assert item.report is not None
    facts = CollectorFacts(
        source_ip=item.source_ip,
        approved=True,  # a revoked device never gets this far
        approval_expires=device.approval_expires,
        last_seen_at=now,
    )
    results = evaluate_report(evaluator, item.report, facts, now)
    rows = rule_rows(device.id, results)
    return _Candidate(
        index=index,
        item=item,
        device=device,
        report_id=str(item.report["report_id"]),
        collected_at=_collected_at(item.report, now),
        results=results,
        state=device_state(results, revoked=False),
        rule_rows=rows,
        digest=rules_digest(rows),
    )


def _insert_reports(
    connection: Connection, candidates: list[_Candidate], now: datetime
) -> set[str]:
    """One INSERT for the batch; a report id already stored inserts nothing (deduplication).
    Returns the ids that were new."""
    if not candidates:
        return set()
    rows = [
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
    # In id order: two collectors inserting the same ids in opposite orders could deadlock on
    # the primary key's index.
    rows.sort(key=lambda row: str(row["id"]))
    return {row[0] for row in connection.execute(_INSERT_REPORTS[connection.dialect.name], rows)}


def _write_devices(connection: Connection, devices: list[_Device]) -> None:
    rows = [
        {
            "k_id": d.id,
            "last_seen_at": d.last_seen_at,
            "state": d.state,
            "failing_rules": d.failing_rules,
            "last_collected_at": d.last_collected_at,
            "last_report_id": d.last_report_id,
            "last_source_ip": d.last_source_ip,
            "reports_received": d.reports_received,
            "rules_digest": d.rules_digest,
        }
        for d in devices
        if d.touched
    ]
    if rows:
        connection.execute(_UPDATE_DEVICES, rows)


def ingest_batch(
    connection: Connection, items: list[Submission], evaluator: Evaluator, now: datetime
) -> list[Accepted | Refusal]:
    """Everything in the caller's transaction; one answer per item, in order. A resent report
    changes nothing but the device's last_seen_at."""
    devices = _lock_devices(connection, {i.secret_hash for i in items if i.secret_hash})
    answers: list[Accepted | Refusal | None] = [None] * len(items)
    candidates: list[_Candidate] = []
    first_ids: set[str] = set()  # a report id sent twice in one batch is stored once
    repeats: list[tuple[int, str, _Device]] = []
    for index, item in enumerate(items):
        checked = _authenticate(item, devices)
        if isinstance(checked, Refusal):
            answers[index] = checked
            continue
        assert item.report is not None
        report_id = str(item.report["report_id"])
        if report_id in first_ids:
            repeats.append((index, report_id, checked))
            continue
        first_ids.add(report_id)
        candidates.append(_evaluate(index, item, checked, evaluator, now))

    new_ids = _insert_reports(connection, candidates, now)
    duplicates = _refuse_taken_ids(connection, candidates, repeats, new_ids, answers)
    fresh = [c for c in candidates if c.report_id in new_ids]
    changed = {c.device.id for c in fresh if c.digest != c.device.rules_digest}
    changes = RuleChanges(stored_rules(connection, changed))
    for candidate in fresh:  # in arrival order; each answer is the state its report left
        device = candidate.device
        _apply(candidate, changes, now)
        device.last_seen_at, device.touched = now, True
        answers[candidate.index] = Accepted(False, device.state, list(device.failing_rules))
    for index, device in duplicates:
        device.last_seen_at, device.touched = now, True  # a resend, too, shows it is alive
        answers[index] = Accepted(True, device.state, list(device.failing_rules))
    changes.write(connection)
    _write_devices(connection, list(devices.values()))
    assert all(a is not None for a in answers), "every item is answered"
    return [a for a in answers if a is not None]


def _apply(candidate: _Candidate, changes: RuleChanges, now: datetime) -> None:
    """A new report on its device's row, in memory; rule and state changes become events."""
    device = candidate.device
    device.reports_received += 1
    device.last_source_ip = candidate.item.source_ip
    # A late report (spooled while offline) joins the history but does not overwrite a newer one.
    if device.last_collected_at is not None and candidate.collected_at < device.last_collected_at:
        return
    device.last_collected_at = candidate.collected_at
    device.last_report_id = candidate.report_id
    device.failing_rules = [r.id for r in candidate.results if r.status == "fail"]
    if candidate.digest != device.rules_digest:
        changes.apply(candidate.rule_rows, candidate.report_id, now)
        device.rules_digest = candidate.digest
    if candidate.state != device.state:
        changes.record(
            device.id, candidate.report_id, "state", None, device.state, candidate.state, now
        )
        device.state = candidate.state


def _refuse_taken_ids(
    connection: Connection,
    candidates: list[_Candidate],
    repeats: list[tuple[int, str, _Device]],
    new_ids: set[str],
    answers: list[Accepted | Refusal | None],
) -> list[tuple[int, _Device]]:
    """A report id that inserted nothing is a resend from the same device (returned, to be
    answered as a duplicate) or an id another device already used (409, set in answers)."""
    taken = [c.report_id for c in candidates if c.report_id not in new_ids]
    owners: dict[str, str] = {}
    if taken:
        found = connection.execute(_REPORT_OWNERS, {"ids": taken})
        owners = {report_id: device_id for report_id, device_id in found}
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
    return duplicates
