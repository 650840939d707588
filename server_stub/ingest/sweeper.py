"""Time-driven states: silent devices go stale, devices whose approval expired unapproved.

Runs every minute in each collector process; the updates are idempotent."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

from server_stub.ingest.evaluation import rule_for_state
from server_stub.storage.clock import utcnow
from server_stub.storage.device_writes import DeviceRow, lock_devices_to_sweep, write_devices
from server_stub.storage.rule_changes import RuleChanges, stored_rules

log = logging.getLogger(__name__)
INTERVAL_S = 60.0
UNAPPROVED, STALE = "unapproved", "stale"


def _fail_rule(
    changes: RuleChanges, device: DeviceRow, rule_id: str, evidence: str, now: datetime
) -> None:
    """The rule's stored row fails with this evidence (an event if it passed before), and the
    device lists it among its failing rules."""
    row = changes.row(device.id, rule_id)
    if row is not None and row["status"] != "fail":
        changes.apply([{**row, "status": "fail", "evidence": [evidence]}], None, now)
        device.rules_digest = None  # the rows no longer match it: the next report compares them
    if rule_id not in device.failing_rules:
        device.failing_rules = [*device.failing_rules, rule_id]


def _set_state(changes: RuleChanges, device: DeviceRow, new: str, now: datetime) -> None:
    if device.state != new:
        changes.record(device.id, None, "state", None, device.state, new, now)
        device.state = new


def sweep(connection: Connection, stale_after: timedelta, now: datetime) -> int:
    """Mark expired approvals unapproved and silent devices stale, each with the catalogue rule
    that names that state failed; returns the devices changed. The devices are locked in id
    order, as ingest locks them, and written through the same statements.

    The rules are not run through the Evaluator here: their evidence would read otherwise
    ("approval expires 2020-01-01", "..., 30 hours ago (at most 24)"), and a policy that turns
    the stale rule off would stop devices from ever going stale."""
    today = now.date()
    due = lock_devices_to_sweep(connection, today, now - stale_after)
    changes = RuleChanges(stored_rules(connection, {device.id for device in due}))
    for device in due:
        if device.approval_expires < today:
            evidence = f"approval expired on {device.approval_expires.isoformat()}"
            _fail_rule(changes, device, rule_for_state(UNAPPROVED), evidence, now)
            _set_state(changes, device, UNAPPROVED, now)
        else:
            evidence = "no report since the last one was received"
            _fail_rule(changes, device, rule_for_state(STALE), evidence, now)
            _set_state(changes, device, STALE, now)
        device.touched = True
    changes.write(connection)
    write_devices(connection, due)
    return len(due)


async def run_forever(engine: Engine, stale_after: timedelta) -> None:
    while True:
        try:
            with engine.begin() as connection:
                changed = sweep(connection, stale_after, utcnow())
        except DBAPIError as exc:  # the database away or a lock conflict: next minute again
            log.warning("sweeper: this pass failed and will be retried: %s", exc)
        else:
            if changed:
                log.info("sweeper: %d device(s) changed state", changed)
        await asyncio.sleep(INTERVAL_S)
