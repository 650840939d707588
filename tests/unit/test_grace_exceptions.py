"""Grace periods and exceptions over simulated time (each step names its own `now`): a failure
within its grace is "due" and the device compliant; the sweeper ends the grace without a report,
once, with its alert; a report after the grace fails the device itself; an exception makes a
failing rule "excepted" until it expires (the sweeper: an alert, once) or is revoked, and a rule
still failing then fails the device. A real collector database: SQLite always, PostgreSQL too
when OUTPOST_TEST_PG_URL is set."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from agent.policy import PolicyError, parse_policy
from agent.policy.loader import default_policy_text
from server_stub.ingest.batch import ingest_batch
from server_stub.ingest.exceptions import grant_exception, revoke_exception
from server_stub.ingest.grace import grace_periods
from server_stub.ingest.outcomes import Accepted
from server_stub.ingest.sweeper import sweep
from server_stub.state import CollectorState
from server_stub.storage.clock import as_utc, utcnow
from server_stub.storage.tables import Alert, AuditEntry
from tests.unit.test_ingest_batch import (  # the same real database and reports
    Dev,
    add_device,
    device,
    report,
    rule_states,
    stamp,
    state,
    sub,
)

__all__ = ["state"]  # the fixture, imported for pytest
T0 = utcnow().replace(microsecond=0) - timedelta(days=20)
H = timedelta(hours=1)


def at(hours: float) -> datetime:
    return T0 + hours * H


@dataclass(frozen=True)
class Step:
    """At `hours` after T0: an action, then the device's state and the rule's status."""

    hours: float
    action: (
        str  # "fail", "pass" (a report), "sweep", "grant <hours>", "grant-dept <hours>", "revoke"
    )
    state: str
    status: str


def body(st: CollectorState, dev: Dev, rule: str, failing: bool, when: datetime) -> dict[str, Any]:
    """A report in which `rule` (PATCH-001: updated 40 days ago, 72 h grace; PATCH-002: a
    security update pending, no grace) fails or passes."""
    made = report(st, dev, pending=1 if failing and rule == "PATCH-002" else 0, collected=when)
    if failing and rule == "PATCH-001":
        patch = made["probes"]["patch_level"]["data"]
        patch["last_update_at"] = stamp(when - timedelta(days=40))
    return made


class Run:
    """One device through the steps, on one collector database."""

    def __init__(self, st: CollectorState, rule: str) -> None:
        self.st, self.rule, self.dev = st, rule, add_device(st)
        self.grace = st.served_policy.grace
        self.granted: int | None = None
        self.answers: list[Accepted] = []

    def do(self, step: Step) -> None:
        now, verb, _, amount = at(step.hours), *step.action.partition(" ")
        if verb in ("fail", "pass"):
            sent = body(self.st, self.dev, self.rule, verb == "fail", now)
            with self.st.engine.begin() as connection:
                [answer] = ingest_batch(
                    connection, [sub(self.dev, sent)], self.st.served_policy.evaluator, now,
                    self.grace,
                )  # fmt: skip
            assert isinstance(answer, Accepted)
            self.answers.append(answer)
        elif verb == "sweep":
            sweep(self.st.engine, timedelta(days=30), now, grace=self.grace)
        elif verb in ("grant", "grant-dept"):
            self.granted = grant_exception(
                self.st.engine, rule_id=self.rule,
                device_id=self.dev.id if verb == "grant" else None,
                department="Press" if verb == "grant-dept" else None,
                reason="vendor patch not out yet", mitigation="host firewall blocks the port",
                expires_at=now + float(amount) * H, actor="ada", grace=self.grace, now=now,
            )  # fmt: skip
        else:
            assert verb == "revoke" and self.granted is not None
            assert revoke_exception(self.st.engine, self.granted, "ada", self.grace, now)

    def check(self, step: Step) -> None:
        row = rule_states(self.st, self.dev).get(self.rule, {"status": "-"})  # "-": no report yet
        assert (device(self.st, self.dev)["state"], row["status"]) == (step.state, step.status)

    def alert_kinds(self) -> list[str]:
        statement = select(Alert.kind).where(Alert.device_id == self.dev.id).order_by(Alert.id)
        with self.st.engine.connect() as connection:
            return list(connection.scalars(statement))


# (rule, steps, the device's alerts at the end)
TABLE: dict[str, tuple[str, list[Step], list[str]]] = {
    "grace ends in the sweeper, once": (
        "PATCH-001",
        [
            Step(0, "fail", "compliant", "due"),
            Step(24, "fail", "compliant", "due"),
            Step(71, "sweep", "compliant", "due"),
            Step(73, "sweep", "non_compliant", "fail"),
            Step(74, "sweep", "non_compliant", "fail"),
        ],
        ["non_compliant"],
    ),
    "a report within grace, then one after it": (
        "PATCH-001",
        [
            Step(0, "fail", "compliant", "due"),
            Step(70, "fail", "compliant", "due"),
            Step(80, "fail", "non_compliant", "fail"),
            Step(81, "sweep", "non_compliant", "fail"),
            Step(85, "fail", "non_compliant", "fail"),  # failing for good: no rows read
        ],
        ["non_compliant"],
    ),
    "fixed within grace, failing again: a new grace": (
        "PATCH-001",
        [
            Step(0, "fail", "compliant", "due"),
            Step(10, "pass", "compliant", "pass"),
            Step(20, "fail", "compliant", "due"),
            Step(80, "sweep", "compliant", "due"),  # 60 h into the second grace
            Step(93, "sweep", "non_compliant", "fail"),
        ],
        ["non_compliant"],
    ),
    "an exception expires while the rule still fails": (
        "PATCH-002",
        [
            Step(0, "fail", "non_compliant", "fail"),
            Step(1, "grant 48", "compliant", "excepted"),
            Step(10, "fail", "compliant", "excepted"),
            Step(48, "sweep", "compliant", "excepted"),
            Step(50, "sweep", "non_compliant", "fail"),
            Step(51, "sweep", "non_compliant", "fail"),
        ],
        ["non_compliant", "compliant", "exception_expired", "non_compliant"],
    ),
    "an exception expires after the rule was fixed": (
        "PATCH-002",
        [
            Step(0, "fail", "non_compliant", "fail"),
            Step(1, "grant 48", "compliant", "excepted"),
            Step(10, "pass", "compliant", "pass"),
            Step(50, "sweep", "compliant", "pass"),
        ],
        ["non_compliant", "compliant", "exception_expired"],
    ),
    "a department's exception, revoked": (
        "PATCH-002",
        [
            Step(0, "grant-dept 100", "unknown", "-"),  # no report yet: nothing to except
            Step(1, "fail", "compliant", "excepted"),
            Step(2, "revoke", "non_compliant", "fail"),
            Step(200, "sweep", "non_compliant", "fail"),  # revoked: no expiry alert
        ],
        ["non_compliant"],
    ),
    "an exception over a grace period, expiring after the grace": (
        "PATCH-001",
        [
            Step(0, "fail", "compliant", "due"),
            Step(1, "grant 100", "compliant", "excepted"),
            Step(80, "fail", "compliant", "excepted"),
            Step(102, "sweep", "non_compliant", "fail"),
        ],
        ["exception_expired", "non_compliant"],
    ),
}


@pytest.mark.parametrize("name", TABLE)
def test_grace_and_exceptions_over_time(state: CollectorState, name: str) -> None:
    rule, steps, alerts = TABLE[name]
    run = Run(state, rule)
    for step in steps:
        run.do(step)
        run.check(step)
    assert run.alert_kinds() == alerts


def test_due_and_excepted_rules_carry_their_dates_and_reach_the_agent(
    state: CollectorState,
) -> None:
    run = Run(state, "PATCH-001")
    run.do(Step(0, "fail", "", ""))
    row = rule_states(state, run.dev)["PATCH-001"]
    assert as_utc(row["failing_since"]) == at(0) and as_utc(row["due_by"]) == at(72)
    assert run.answers[-1].notes == {"PATCH-001": {"status": "due", "until": stamp(at(72))}}
    assert run.answers[-1].failing == [] and run.answers[-1].state == "compliant"
    run.do(Step(5, "grant 24", "", ""))
    row = rule_states(state, run.dev)["PATCH-001"]
    assert (row["excepted_by"], as_utc(row["excepted_until"])) == ("ada", at(29))
    assert as_utc(row["failing_since"]) == at(0)  # still failing since the first report
    run.do(Step(6, "fail", "", ""))
    expected = {"status": "excepted", "until": stamp(at(29)), "by": "ada"}
    assert run.answers[-1].notes == {"PATCH-001": expected}
    run.do(Step(30, "sweep", "", ""))  # excepted until 29 h, in grace until 72 h: due again
    row = rule_states(state, run.dev)["PATCH-001"]
    assert (row["status"], as_utc(row["due_by"]), row["excepted_by"]) == ("due", at(72), None)


def test_granting_and_revoking_are_in_the_audit_log(state: CollectorState) -> None:
    run = Run(state, "PATCH-002")
    run.do(Step(0, "fail", "", ""))
    run.do(Step(1, "grant 10", "", ""))
    run.do(Step(2, "revoke", "", ""))
    with state.engine.connect() as connection:
        logged = list(connection.execute(select(AuditEntry).order_by(AuditEntry.id)))
    granted, revoked = [e for e in logged if e.action.startswith("exception.")]
    assert (granted.actor, granted.action, granted.target) == (
        "ada", "exception.grant", f"PATCH-002 on device {run.dev.id}"
    )  # fmt: skip
    assert "vendor patch not out yet" in granted.detail and "host firewall" in granted.detail
    assert (revoked.action, revoked.detail) == ("exception.revoke", f"#{run.granted}")
    assert not revoke_exception(state.engine, run.granted or 0, "ada", run.grace, at(3))


def test_grace_hours_come_from_the_catalogue_and_the_policy_overrides_them() -> None:
    default = parse_policy(default_policy_text())
    assert grace_periods(default) == {"PATCH-001": 72 * H, "PATCH-003": 24 * H}
    text = (
        default_policy_text()
        + "\n[rules.PATCH-001]\ngrace_hours = 0\n[rules.NET-001]\ngrace_hours = 4\n"
    )
    assert grace_periods(parse_policy(text)) == {"NET-001": 4 * H, "PATCH-003": 24 * H}


@pytest.mark.parametrize("value", ["-1", "1.5", "true", '"72"', "9000"])
def test_a_bad_grace_period_is_refused_with_its_line(value: str) -> None:
    text = default_policy_text() + f"\n[rules.PATCH-001]\ngrace_hours = {value}\n"
    with pytest.raises(PolicyError, match="grace_hours: must be a whole number of hours"):
        parse_policy(text, source="policy.toml")


def test_two_sweepers_at_once_end_a_grace_and_an_exception_once(state: CollectorState) -> None:
    """Two collectors' sweepers on one database (PostgreSQL: row locks; SQLite: the write
    lock), in the same minute: each change, and each alert, happens once."""
    due, excepted = Run(state, "PATCH-001"), Run(state, "PATCH-002")
    due.do(Step(0, "fail", "", ""))
    excepted.do(Step(0, "fail", "", ""))
    excepted.do(Step(1, "grant 10", "", ""))
    go = threading.Barrier(2)

    def one_sweep() -> None:
        go.wait()
        sweep(state.engine, timedelta(days=30), at(80), grace=state.served_policy.grace)

    threads = [threading.Thread(target=one_sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert due.alert_kinds() == ["non_compliant"]
    assert excepted.alert_kinds() == ["non_compliant", "compliant", "exception_expired",
                                      "non_compliant"]  # fmt: skip
    for run in (due, excepted):
        assert device(state, run.dev)["state"] == "non_compliant"


def test_fixed_and_failing_again_in_one_batch_starts_a_new_grace(state: CollectorState) -> None:
    """A device past its grace sends two reports that land in one batch: fixed, then failing
    again; the second starts a new grace (its failing_since is this batch's)."""
    run = Run(state, "PATCH-001")
    run.do(Step(0, "fail", "", ""))
    run.do(Step(80, "fail", "", ""))
    assert device(state, run.dev)["failing_rules"] == ["PATCH-001"]
    now = at(90)
    both = [sub(run.dev, body(state, run.dev, "PATCH-001", failing, now)) for failing in (0, 1)]
    with state.engine.begin() as connection:
        fixed, again = ingest_batch(
            connection, both, state.served_policy.evaluator, now, state.served_policy.grace
        )
    assert isinstance(fixed, Accepted) and isinstance(again, Accepted)
    assert (fixed.state, again.state) == ("compliant", "compliant")
    assert again.notes == {"PATCH-001": {"status": "due", "until": stamp(now + 72 * H)}}
    row = rule_states(state, run.dev)["PATCH-001"]
    assert (row["status"], as_utc(row["failing_since"])) == ("due", now)
