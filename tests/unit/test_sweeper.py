"""The sweeper: expired approvals become unapproved, silent devices stale, each with its rule
(ADM-001, ADM-002: the catalogue's device_state names them) failed and history recorded; revoked
devices are left alone; a second pass changes nothing. SQLite always; PostgreSQL too when
OUTPOST_TEST_PG_URL names a server."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from agent.policy import RuleResult, load_catalogue
from server_stub.ingest.evaluation import RULE_STATES, device_state, rule_for_state, states_of_rules
from server_stub.ingest.sweeper import sweep
from server_stub.state import CollectorState
from server_stub.storage.clock import utcnow
from server_stub.storage.devices import revoke_device
from server_stub.storage.sweep_writes import Sweep, next_batch, sweep_batch
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


def run(state: CollectorState, now: datetime, batch: int = 1000) -> int:
    return sweep(state.engine, stale_after(state), now, batch=batch)


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


# the states' rules come from the catalogue ------------------------------------------------


def failing(*rule_ids: str) -> list[RuleResult]:
    return [
        RuleResult(rule.id, rule.title, rule.severity, "fail", [], "", "", rule.scope)
        for rule in load_catalogue()
        if rule.id in rule_ids
    ]


def test_the_catalogue_names_the_rule_of_each_state() -> None:
    named = {rule.device_state: rule.id for rule in load_catalogue() if rule.device_state}
    assert named == {"unapproved": "ADM-001", "stale": "ADM-002"}
    assert {state: rule_for_state(state) for state in RULE_STATES} == named


def test_device_state_ranks_revoked_unapproved_stale_then_the_verdict() -> None:
    assert device_state(failing("ADM-001", "ADM-002"), revoked=True) == "revoked"
    assert device_state(failing("ADM-001", "ADM-002", "PATCH-002"), revoked=False) == "unapproved"
    assert device_state(failing("ADM-002", "PATCH-002"), revoked=False) == "stale"
    assert device_state(failing("PATCH-002"), revoked=False) == "non_compliant"
    assert device_state([], revoked=False) == "compliant"


def test_a_catalogue_state_the_collector_does_not_know_is_an_error() -> None:
    rule = next(r for r in load_catalogue() if r.device_state == "stale")
    with pytest.raises(ValueError, match="asleep"):
        states_of_rules((dataclasses.replace(rule, device_state="asleep"),))


def test_no_rule_id_is_written_into_the_collector() -> None:
    """The collector finds its rules through the catalogue; a rule id in its source would
    silently stop working when the catalogue changes."""
    ids = {rule.id for rule in load_catalogue()}
    root = Path(__file__).resolve().parents[2] / "server_stub"
    found = {
        (str(path.relative_to(root)), rule_id)
        for path in root.rglob("*.py")
        for rule_id in ids
        if rule_id in path.read_text(encoding="utf-8")
    }
    assert found == set()


def test_small_batches_change_the_same_devices_as_one(state: CollectorState) -> None:
    """Batches of two over seven devices (three of them expired): every due device changes
    once, in its own batch's transaction, and a second pass changes nothing."""
    now = utcnow()
    devices = [add_device(state) for _ in range(7)]
    long_ago = now - stale_after(state) - timedelta(minutes=1)
    for index, dev in enumerate(devices):
        reported(state, dev, now - timedelta(days=3))
        set_device(state, dev, last_seen_at=long_ago)
        if index % 3 == 0:  # failing lists of their own: a statement per distinct list
            set_device(state, dev, failing_rules=["PATCH-002"] if index else ["ADM-002"])
        if index % 2:
            set_device(state, dev, approval_expires=date(2020, 1, 1))
    assert run(state, now, batch=2) == 7
    assert run(state, now, batch=2) == 0
    for index, dev in enumerate(devices):
        expected = ("unapproved", "ADM-001") if index % 2 else ("stale", "ADM-002")
        before = [] if index % 3 else (["PATCH-002"] if index else ["ADM-002"])
        failing = before if expected[1] in before else [*before, expected[1]]
        assert (device(state, dev)["state"], device(state, dev)["failing_rules"]) == (
            expected[0],
            failing,
        )
        assert device(state, dev)["rules_digest"] is None
        assert [e for e in events(state, dev) if e[0] == "state"][-1][3] == expected[0]


def test_a_device_that_reported_after_it_was_listed_is_left_alone(state: CollectorState) -> None:
    """Due ids are read unlocked; the batch checks again under its lock."""
    now = utcnow()
    silent, back = add_device(state), add_device(state)
    long_ago = now - stale_after(state) - timedelta(minutes=1)
    for dev in (silent, back):
        reported(state, dev, now - timedelta(days=3))
        set_device(state, dev, last_seen_at=long_ago)
    rules = {s: rule_for_state(s) for s in RULE_STATES}
    pass_ = Sweep(today=now.date(), seen_before=now - stale_after(state), now=now)
    with state.engine.connect() as connection:
        upto = next_batch(connection, pass_, "", 10)
    assert upto == max(silent.id, back.id)
    reported(state, back, now)  # its report arrives between the listing and the batch
    with state.engine.begin() as connection:
        assert sweep_batch(connection, "", upto, pass_, rules) == 1
    assert device(state, silent)["state"] == "stale"
    assert device(state, back)["state"] == "compliant"
