"""Time-driven states: a device goes stale when it stops reporting, unapproved when its
approval expires. Runs every minute in each collector process; the updates are idempotent."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from server_stub.state import CollectorState
from server_stub.storage.clock import utcnow
from server_stub.storage.tables import Device, Event, RuleState

log = logging.getLogger(__name__)
INTERVAL_S = 60.0


def _fail_rule(
    session: Session, device: Device, rule_id: str, evidence: str, now: datetime
) -> None:
    rule = session.get(RuleState, (device.id, rule_id))
    if rule is not None and rule.status != "fail":
        session.add(
            Event(
                device_id=device.id,
                at=now,
                kind="rule",
                rule_id=rule_id,
                old=rule.status,
                new="fail",
            )
        )
        rule.status, rule.evidence, rule.changed_at = "fail", [evidence], now
        device.rules_digest = None  # the rows no longer match it: the next report compares them
    if rule_id not in (device.failing_rules or []):
        device.failing_rules = [*(device.failing_rules or []), rule_id]


def set_state(session: Session, device: Device, new: str, now: datetime) -> None:
    if device.state != new:
        session.add(Event(device_id=device.id, at=now, kind="state", old=device.state, new=new))
        device.state = new


def sweep(session: Session, stale_after: timedelta, now: datetime) -> int:
    """Mark expired approvals unapproved and silent devices stale; returns devices changed.

    The devices are locked in id order, as ingest locks them: two transactions that each
    lock several devices in another order could deadlock."""
    today = now.date()
    due = (
        select(Device)
        .where(
            Device.revoked_at.is_(None),
            Device.state != "unapproved",
            or_(
                Device.approval_expires < today,
                and_(Device.state != "stale", Device.last_seen_at < now - stale_after),
            ),
        )
        .order_by(Device.id)
        .with_for_update()
    )
    changed = 0
    for device in session.scalars(due):
        if device.approval_expires < today:
            evidence = f"approval expired on {device.approval_expires.isoformat()}"
            _fail_rule(session, device, "ADM-001", evidence, now)
            set_state(session, device, "unapproved", now)
        else:
            evidence = "no report since the last one was received"
            _fail_rule(session, device, "ADM-002", evidence, now)
            set_state(session, device, "stale", now)
        changed += 1
    return changed


async def run_forever(state: CollectorState) -> None:
    stale_hours = int(state.served_policy.policy.values["reporting"]["stale_after_hours"])
    while True:
        try:
            with state.sessions.begin() as session:
                changed = sweep(session, timedelta(hours=stale_hours), utcnow())
        except DBAPIError as exc:  # the database away or a lock conflict: next minute again
            log.warning("sweeper: this pass failed and will be retried: %s", exc)
        else:
            if changed:
                log.info("sweeper: %d device(s) changed state", changed)
        await asyncio.sleep(INTERVAL_S)
