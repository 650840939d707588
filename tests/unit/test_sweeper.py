"""The sweeper: expired approvals become unapproved, silent devices stale, each with its rule
(ADM-001, ADM-002) failed and history recorded; revoked devices are left alone; a second pass
changes nothing. SQLite always; PostgreSQL too when OUTPOST_TEST_PG_URL names a server."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import update

from server_stub.ingest.sweeper import sweep
from server_stub.state import CollectorState
from server_stub.storage.clock import utcnow
from server_stub.storage.devices import revoke_device
from server_stub.storage.tables import Device
from tests.unit.test_ingest_batch import (
    NEW,
    Dev,
    add_device,
    device,
    events,
    execute,
    ingest,
    report,
    rule_states,
    sub,
)
from tests.unit.test_ingest_batch import state as state  # the fixture, SQLite and PostgreSQL


def stale_after(state: CollectorState) -> timedelta:
    return timedelta(hours=int(state.served_policy.policy.values["reporting"]["stale_after_hours"]))


def reported(state: CollectorState, dev: Dev, now: datetime) -> None:
    assert ingest(state, sub(dev, report(state, dev, collected=now)), now=now) == [NEW]


def set_device(state: CollectorState, dev: Dev, **values: object) -> None:
    execute(state, update(Device).where(Device.id == dev.id).values(**values))


def run(state: CollectorState, now: datetime) -> int:
    with state.engine.begin() as connection:
        return sweep(connection, stale_after(state), now)


def test_silent_expired_revoked_and_current_devices(state: CollectorState) -> None:
    now = utcnow()
    silent, expired, both, current, revoked = (add_device(state) for _ in range(5))
    for dev in (silent, expired, both, current, revoked):
        reported(state, dev, now - timedelta(days=3))
    reported(state, current, now)
    long_ago = now - stale_after(state) - timedelta(minutes=1)
    for dev in (silent, both, revoked):
        set_device(state, dev, last_seen_at=long_ago)
    for dev in (expired, both):
        set_device(state, dev, approval_expires=date(2020, 1, 1))
    set_device(state, current, last_seen_at=now)
    with state.sessions.begin() as session:
        name = session.get_one(Device, revoked.id).name
        revoke_device(session, name, "tests")

    assert run(state, now) == 3
    assert device(state, silent)["state"] == "stale"
    assert device(state, expired)["state"] == "unapproved"
    assert device(state, both)["state"] == "unapproved"  # the approval decides first
    assert device(state, current)["state"] == "compliant"
    assert device(state, revoked)["state"] == "revoked"
    assert rule_states(state, silent)["ADM-002"]["status"] == "fail"
    assert rule_states(state, expired)["ADM-001"]["evidence"] == ["approval expired on 2020-01-01"]
    assert device(state, silent)["failing_rules"] == ["ADM-002"]
    assert events(state, silent)[-2:] == [
        ("rule", "ADM-002", "pass", "fail", None),
        ("state", None, "compliant", "stale", None),
    ]
    for dev in (silent, expired, both):
        assert device(state, dev)["rules_digest"] is None  # the next report compares the rows
    assert run(state, now) == 0  # nothing left to do: the pass is idempotent
