"""Devices judged again without a report, from their stored rule rows: when a grace period
ends, an exception expires, or one is granted or revoked. Each change is a history event and,
for the device's state, an alert, in the caller's transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, and_, bindparam, or_, select, update

from agent.policy import RuleResult
from server_stub.ingest.alerts import AlertDrafts, rule_entry
from server_stub.ingest.evaluation import state_of_rows
from server_stub.ingest.grace import Grace, judge_rule, raw_status
from server_stub.storage.alerts import AlertDraft
from server_stub.storage.device_writes import locking
from server_stub.storage.exceptions import covered_devices, end, expired, holding
from server_stub.storage.rule_changes import RuleChanges, stored_rules
from server_stub.storage.tables import Device, RuleState

_LOCK = (
    select(
        Device.id, Device.state, Device.revoked_at, Device.approval_expires, Device.failing_rules
    )
    .where(Device.id.in_(bindparam("ids", expanding=True)))
    .order_by(Device.id)
)
_SET_STATE = (
    update(Device)
    .where(Device.id == bindparam("k_id"))
    .values(state=bindparam("state"), failing_rules=bindparam("failing"), rules_digest=None)
)


def _due_ended(grace: Grace, now: datetime) -> Select[str]:
    """The devices with a "due" rule whose grace is over: its stored due_by has passed, or the
    policy (since a restart) gives the rule no grace or a shorter one than due_by was set by."""
    over = [RuleState.due_by <= now, RuleState.rule_id.not_in(sorted(grace))]
    over += [
        and_(RuleState.rule_id == rule_id, RuleState.failing_since <= now - period)
        for rule_id, period in sorted(grace.items())
    ]
    return select(RuleState.device_id).where(RuleState.status == "due", or_(*over)).distinct()


def lock_devices(connection: Connection, device_ids: set[str]) -> list[Any]:
    """The devices' rows, locked in id order as ingest locks them (SQLite: the write lock),
    before anything is written in this transaction."""
    statement = locking(connection, _LOCK)
    if not device_ids:
        return []
    return list(connection.execute(statement, {"ids": sorted(device_ids)}))


def _result(row: dict[str, Any]) -> RuleResult:
    return RuleResult(
        row["rule_id"], row["title"], row["severity"], row["status"], row["evidence"],
        row["remediation"], "",
    )  # fmt: skip


def rejudge(
    connection: Connection,
    locked: list[Any],
    grace: Grace,
    now: datetime,
    alerts: AlertDrafts | None = None,
) -> dict[tuple[str, str], dict[str, Any]]:
    """Judge the locked devices' stored rows again, writing the changes; returns the rows as
    they are now. The state alerts go into `alerts` (written by the caller), else are written."""
    live = [d for d in locked if d.revoked_at is None]
    ids = {d.id for d in live}
    stored = stored_rules(connection, ids)
    holds = holding(connection, ids, now)
    changes, drafts = RuleChanges(stored), AlertDrafts() if alerts is None else alerts
    by_device: dict[str, list[dict[str, Any]]] = {}
    for (device_id, rule_id), row in stored.items():
        verdict = judge_rule(
            rule_id, raw_status(row), row, holds.get(device_id, {}).get(rule_id), grace, now
        )
        fresh = {k: v for k, v in row.items() if k not in ("changed_at", "failing_since")}
        by_device.setdefault(device_id, []).append(
            {**fresh, **verdict.extra, "status": verdict.status}
        )
    for device in live:
        rows = by_device.get(device.id, [])
        if not rows:  # never reported: nothing to judge
            continue
        dirty = len(changes.dirty)
        changes.apply(rows, None, now)
        state = state_of_rows(((r["rule_id"], r["status"]) for r in rows), revoked=False)
        failing = sorted(r["rule_id"] for r in rows if r["status"] == "fail")
        same = state == device.state and failing == sorted(device.failing_rules or [])
        if same and len(changes.dirty) == dirty:
            continue  # nothing changed: the row (and its rules digest) stays as it is
        results, key = [_result(r) for r in rows], f"rejudged-{now:%Y%m%dT%H%M%S}"
        state_alert = False
        if state != device.state:
            changes.record(device.id, None, "state", None, device.state, state, now)
            state_alert = drafts.state_changed(
                device.id, key, device.state, state, results, device.approval_expires, now
            )
        # A critical rule failing again (its exception revoked or ended, its grace over) on a
        # device that stays non-compliant: the alert a report would raise (a state alert names
        # every failing rule already).
        before: dict[str, str | None] = {
            r.id: str(stored[(device.id, r.id)]["status"])
            for r in results
            if r.severity == "critical" and r.status == "fail"
        }
        if before and not state_alert:
            drafts.critical_failed(device.id, key, results, before, now)
        connection.execute(_SET_STATE, {"k_id": device.id, "state": state, "failing": failing})
    changes.write(connection)
    if alerts is None:
        drafts.write(connection)
    return changes.current


def sweep_rules(connection: Connection, grace: Grace, now: datetime) -> int:
    """The sweeper's pass over time-limited allowances, in one transaction: exceptions that
    expired are ended (an alert each, once: the first writer ends it) and devices whose grace
    ran out or whose exception ended are judged again; returns the alerts written."""
    ending = expired(connection, now)
    covered = {e.id: covered_devices(connection, e.device_id, e.department) for e in ending}
    due = {str(i) for i in connection.scalars(_due_ended(grace, now))}
    ids = due | {i for devices in covered.values() for i in devices}
    if not ids and not ending:
        return 0
    locked = lock_devices(connection, ids)
    drafts, alerts = [], AlertDrafts()
    ended = [e for e in ending if end(connection, e.id, now)]
    after = rejudge(connection, locked, grace, now, alerts)
    watched = {d.id for d in locked if d.revoked_at is None}  # a revoked device: no alert
    for exception in ended:
        until = exception.expires_at.strftime("%Y-%m-%dT%H:%MZ")
        for device_id in (i for i in covered[exception.id] if i in watched):
            row = after.get((device_id, exception.rule_id))
            status = row["status"] if row else "not evaluated"
            drafts.append(
                AlertDraft(
                    f"exception_expired:{exception.id}:{device_id}", "exception_expired",
                    "high" if status == "fail" else "low", device_id, now,
                    f"{{name}}: the exception for {exception.rule_id} expired",
                    f"granted by {exception.granted_by}, expired {until}; the rule is now "
                    f"{status}", [rule_entry(row)] if row else [], {},
                )
            )  # fmt: skip
    alerts.drafts[:0] = drafts  # the expiry first, then what it did to the device
    alerts.write(connection)
    return len(alerts.drafts)
