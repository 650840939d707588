"""Review findings on rule exceptions: a revocation raced by a second collector is written (and
audit-logged) once; the exceptions holding come back with their zone on SQLite as on PostgreSQL;
the grant form refuses a rule the served policy switches off and a revoked device. A real
collector database: SQLite always, PostgreSQL too when OUTPOST_TEST_PG_URL is set."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agent.policy.loader import default_policy_text
from server_stub.ingest.exceptions import grant_exception, revoke_exception
from server_stub.ingest.sweeper import sweep
from server_stub.state import CollectorState
from server_stub.storage import exceptions, reads
from server_stub.storage.admins import create_admin
from server_stub.storage.clock import utcnow
from server_stub.storage.devices import revoke_device
from server_stub.storage.exceptions import holding
from server_stub.storage.tables import Alert, AuditEntry, Device, RuleException
from tests.unit.test_dashboard import (
    Env,
    add_report,
    csrf,
    hostile_report,
    log_in,
    make_env,
    register,
)
from tests.unit.test_dashboard_exceptions import grant_form
from tests.unit.test_grace_exceptions import Run, Step, at
from tests.unit.test_ingest_batch import add_device, state

__all__ = ["state"]  # the fixture, imported for pytest


def _grant(st: CollectorState, device_id: str | None, department: str | None) -> int:
    now = utcnow()
    return grant_exception(
        st.engine, rule_id="PATCH-002", device_id=device_id, department=department,
        reason="vendor patch not out yet", mitigation="host firewall blocks the port",
        expires_at=now + timedelta(days=30), actor="ada",
        grace=st.served_policy.grace, now=now,
    )  # fmt: skip


def test_two_collectors_revoking_at_once_revoke_once(state: CollectorState) -> None:
    # A department without devices: nothing to lock, so only the revocation itself can keep
    # the second collector from revoking (and audit-logging) it again.
    granted = _grant(state, None, "Nobody-works-here")
    with Session(state.engine) as first, Session(state.engine) as second:
        seen = second.get(RuleException, granted)  # both read it still open (and keep it)
        assert seen is not None and seen.revoked_at is None
        assert exceptions.revoke(first, granted, "ada", utcnow()) is not None
        first.commit()
        assert exceptions.revoke(second, granted, "bob", utcnow()) is None
        second.commit()
    with state.sessions() as session:
        found = session.get(RuleException, granted)
        assert found is not None and found.revoked_by == "ada"
        logged = session.scalar(select(func.count()).where(AuditEntry.action == "exception.revoke"))
    assert logged == 1


def test_the_exceptions_holding_carry_their_zone(state: CollectorState) -> None:
    dev = add_device(state)
    _grant(state, dev.id, None)
    with state.engine.connect() as connection:
        held = holding(connection, {dev.id}, utcnow())
    until = held[dev.id]["PATCH-002"].until
    # stored_rules hands back aware times; a naive one here differs from the stored
    # excepted_until on every re-judging, so the row was rewritten each time on SQLite.
    assert until.tzinfo is not None and until.utcoffset() is not None


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    text = default_policy_text() + "\n[rules.PATCH-002]\nenabled = false\n"
    (tmp_path / "policy.toml").write_text(text, encoding="utf-8")
    yield from make_env(tmp_path, policy_file=str(tmp_path / "policy.toml"))


def _count(env: Env) -> int:
    with env.state.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(RuleException)) or 0)


def test_a_rule_the_policy_switches_off_cannot_be_excepted(env: Env) -> None:
    device_id = register(env, "kiosk-1")
    log_in(env.client)
    page = f"/devices/{device_id}"
    answer = env.client.post(
        f"{page}/exceptions", data=grant_form(csrf(env.client, page), "PATCH-002")
    )
    assert answer.status_code == 400 and "switched off" in answer.text
    assert _count(env) == 0


def test_a_revoked_device_gets_no_exception(env: Env) -> None:
    device_id = register(env, "kiosk-2")
    log_in(env.client)
    page = f"/devices/{device_id}"
    token = csrf(env.client, page)
    with env.state.sessions.begin() as session:
        device = session.get(Device, device_id)
        assert device is not None
        revoke_device(session, device.name, "tests")
    answer = env.client.post(f"{page}/exceptions", data=grant_form(token, "PATCH-001"))
    assert answer.status_code == 409 and "revoked" in answer.text
    assert _count(env) == 0


def test_a_viewer_can_neither_grant_nor_revoke(env: Env) -> None:
    device_id = register(env, "kiosk-3")
    granted = _grant(env.state, device_id, None)
    with env.state.sessions.begin() as session:
        create_admin(session, "vera", "a long viewer password", "tests", role="viewer")
    log_in(env.client, password="a long viewer password", username="vera")
    page = f"/devices/{device_id}"
    token = csrf(env.client, page)
    grant = env.client.post(f"{page}/exceptions", data=grant_form(token, "PATCH-001"))
    revoke = env.client.post(f"/exceptions/{granted}/revoke", data={"csrf_token": token})
    assert (grant.status_code, revoke.status_code) == (403, 403)
    assert _count(env) == 1
    with env.state.sessions() as session:
        found = session.get(RuleException, granted)
        assert found is not None and found.revoked_at is None


def test_the_grant_form_offers_only_the_rules_the_policy_judges(env: Env) -> None:
    device_id = register(env, "kiosk-4")
    log_in(env.client)
    page = env.client.get(f"/devices/{device_id}").text
    assert '<option value="PATCH-001">' in page
    assert '<option value="PATCH-002">' not in page


@pytest.mark.parametrize("grace", [{}, {"PATCH-001": timedelta(hours=2)}])
def test_a_grace_the_policy_shortened_ends_in_the_sweeper(
    state: CollectorState, grace: dict[str, timedelta]
) -> None:
    """Due under 72 h, then the collector restarts with the grace removed or cut to 2 h: the
    silent device fails at the next sweep, not 72 h after it started failing."""
    run = Run(state, "PATCH-001")
    run.do(Step(0, "fail", "compliant", "due"))
    run.check(Step(0, "", "compliant", "due"))
    sweep(state.engine, timedelta(days=30), at(3), grace=grace)
    run.check(Step(3, "", "non_compliant", "fail"))


def test_a_critical_rule_failing_again_on_revocation_alerts(tmp_path: Path) -> None:
    """The device stays non-compliant (other rules fail), so no state alert: a critical rule
    that fails again when its exception is revoked raises the critical-rule alert a report
    would have raised."""
    for plain in make_env(tmp_path):
        device_id = register(plain, "kiosk-5")
        add_report(plain, device_id, hostile_report())
        with plain.state.sessions() as session:
            statuses = {r.rule_id: r.status for r in reads.rule_states(session, device_id)}
        assert statuses["NET-001"] == "fail" and sum(s == "fail" for s in statuses.values()) > 1
        now, grace = utcnow(), plain.state.served_policy.grace
        granted = grant_exception(
            plain.state.engine, rule_id="NET-001", device_id=device_id, department=None,
            reason="a lab network on purpose", mitigation="an isolated VLAN",
            expires_at=now + timedelta(days=3), actor="ada", grace=grace, now=now,
        )  # fmt: skip
        assert revoke_exception(plain.state.engine, granted, "ada", grace, now + timedelta(hours=1))
        with plain.state.sessions() as session:
            kinds = list(session.scalars(select(Alert.kind).where(Alert.device_id == device_id)))
        assert kinds == ["non_compliant", "critical_rule"]


@pytest.mark.parametrize("rule_id", ["ADM-001", "ADM-002"])
def test_the_approval_and_reporting_rules_cannot_be_excepted(env: Env, rule_id: str) -> None:
    """Their failure is a device state the sweeper sets from the register and the clock: an
    exception would make a report turn the device compliant and the next sweep unapproved
    (or stale) again, an alert each way, every cycle. Approval is renewed in the register."""
    device_id = register(env, "kiosk-6")
    log_in(env.client)
    page = f"/devices/{device_id}"
    shown = env.client.get(page).text
    assert f'<option value="{rule_id}">' not in shown
    answer = env.client.post(f"{page}/exceptions", data=grant_form(csrf(env.client, page), rule_id))
    assert answer.status_code == 400 and "cannot be excepted" in answer.text
    assert _count(env) == 0
    with pytest.raises(ValueError, match="cannot be excepted"):
        grant_exception(
            env.state.engine, rule_id=rule_id, device_id=device_id, department=None,
            reason="renewal is on its way", mitigation="the head of department knows",
            expires_at=utcnow() + timedelta(days=3), actor="ada",
            grace=env.state.served_policy.grace, now=utcnow(),
        )  # fmt: skip
    assert _count(env) == 0


def test_an_exception_of_a_revoked_device_ends_without_an_alert(state: CollectorState) -> None:
    """A revoked device is no longer watched: its exception ends at expiry, silently."""
    run = Run(state, "PATCH-002")
    run.do(Step(0, "fail", "non_compliant", "fail"))
    run.do(Step(1, "grant 10", "compliant", "excepted"))
    with state.sessions.begin() as session:
        device = session.get(Device, run.dev.id)
        assert device is not None
        revoke_device(session, device.name, "tests")
    sweep(state.engine, timedelta(days=30), at(12), grace=run.grace)
    assert "exception_expired" not in run.alert_kinds()
    with state.sessions() as session:
        found = session.get(RuleException, run.granted)
        assert found is not None and found.ended_at is not None


def test_a_hostile_reason_is_text_on_the_pages_and_in_the_csv(tmp_path: Path) -> None:
    """The reason and mitigation are an admin's free text: escaped on the device page and the
    evidence page, never a formula in the evidence CSV (safe_cell on the new columns)."""
    reason, mitigation = "<script>alert(1)</script> vendor", '=HYPERLINK("http://x.test","ok")'
    for plain in make_env(tmp_path):
        device_id = register(plain, "kiosk-7")
        log_in(plain.client)
        page = f"/devices/{device_id}"
        form = grant_form(csrf(plain.client, page), "PATCH-001", reason=reason)
        form["mitigation"] = mitigation
        assert plain.client.post(f"{page}/exceptions", data=form).status_code == 303
        for shown in (plain.client.get(page).text, plain.client.get("/evidence").text):
            assert "<script>alert(1)</script>" not in shown
            assert "&lt;script&gt;alert(1)&lt;/script&gt; vendor" in shown
        rows = list(csv.DictReader(io.StringIO(plain.client.get("/evidence.csv").text)))
        [row] = [r for r in rows if r["exception_rule"] == "PATCH-001"]
        assert row["exception_mitigation"] == "'" + mitigation
        assert row["exception_reason"] == reason
