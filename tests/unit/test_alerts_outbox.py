"""Alerts written with the change that causes them, exactly once per change: a device that turns
non-compliant (its first report too) or compliant again, a new critical rule, a report refused
for good, a device gone stale or unapproved (the sweep), an approval ending in 30 and 7 days.
On a real collector database: SQLite always, PostgreSQL too when OUTPOST_TEST_PG_URL is set."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select, update

from server_stub.ingest import outcomes as refusals
from server_stub.ingest.alerts import approval_alerts
from server_stub.ingest.batch import ingest_batch
from server_stub.ingest.outcomes import RefusalKind, Refused
from server_stub.ingest.sweeper import sweep
from server_stub.state import CollectorState
from server_stub.storage.clock import utcnow
from server_stub.storage.tables import Alert, Device
from tests.unit.test_alert_outbox_helpers import internal
from tests.unit.test_ingest_batch import (  # the same real database and reports
    Dev,
    add_device,
    execute,
    ingest,
    report,
    state,
    sub,
)

__all__ = ["state"]  # the fixture, imported for pytest


def alerts(st: CollectorState, dev: Dev | None = None) -> list[Alert]:
    statement = select(Alert).order_by(Alert.id)
    if dev is not None:
        statement = statement.where(Alert.device_id == dev.id)
    with st.sessions() as session:
        return list(session.scalars(statement))


def kinds(st: CollectorState, dev: Dev) -> list[str]:
    return [a.kind for a in alerts(st, dev)]


def test_a_first_failing_report_makes_one_alert_that_names_device_owner_and_rules(
    state: CollectorState,
) -> None:
    dev = add_device(state)
    body = report(state, dev, pending=2)
    ingest(state, sub(dev, body))
    [alert] = alerts(state, dev)
    assert (alert.kind, alert.severity, alert.key) == (
        "non_compliant", "high", f"non_compliant:{dev.id}:{body['report_id']}",
    )  # fmt: skip
    payload = alert.payload
    assert payload["device"]["owner"] == "Ada" and payload["device"]["department"] == "Press"
    assert payload["title"] == f"{payload['device']['name']} is non-compliant"
    assert payload["state"] == {"old": "unknown", "new": "non_compliant"}
    assert payload["path"] == f"/devices/{dev.id}"
    [rule] = payload["rules"]
    assert rule["id"] == "PATCH-002" and rule["status"] == "fail"
    assert rule["remediation"].startswith("Install the pending security updates")
    assert any("openssl" in line for line in rule["evidence"]), rule["evidence"]
    assert alert.department == "Press" and alert.fanned_out is False


def test_each_change_once_and_nothing_for_a_report_that_changes_nothing(
    state: CollectorState,
) -> None:
    dev = add_device(state)
    ingest(state, sub(dev, report(state, dev)))  # unknown -> compliant: no alert
    assert kinds(state, dev) == []
    failing = report(state, dev, pending=1)
    ingest(state, sub(dev, failing))
    ingest(state, sub(dev, failing))  # the same report again: a duplicate
    ingest(state, sub(dev, report(state, dev, pending=1)))  # still failing, same rules
    assert kinds(state, dev) == ["non_compliant"]
    ingest(state, sub(dev, report(state, dev)))
    assert kinds(state, dev) == ["non_compliant", "compliant"]
    assert alerts(state, dev)[-1].payload["state"] == {"old": "non_compliant", "new": "compliant"}


def test_a_critical_rule_failing_on_a_non_compliant_device_has_its_own_alert(
    state: CollectorState,
) -> None:
    dev = add_device(state)
    ingest(state, sub(dev, report(state, dev, pending=1)))
    ingest(state, sub(dev, internal(report(state, dev, pending=1))))
    assert kinds(state, dev) == ["non_compliant", "critical_rule"]
    critical = alerts(state, dev)[-1]
    assert critical.severity == "critical"
    assert [r["id"] for r in critical.payload["rules"]] == ["NET-001"]
    assert "10.1.2.3" in " ".join(critical.payload["rules"][0]["evidence"])
    ingest(state, sub(dev, internal(report(state, dev, pending=0))))  # NET-001 still fails
    assert kinds(state, dev) == ["non_compliant", "critical_rule"]


def test_a_first_report_failing_a_critical_rule_makes_one_alert_naming_it(
    state: CollectorState,
) -> None:
    dev = add_device(state)
    ingest(state, sub(dev, internal(report(state, dev))))
    [alert] = alerts(state, dev)
    assert (alert.kind, alert.severity) == ("non_compliant", "critical")
    assert "NET-001" in [r["id"] for r in alert.payload["rules"]]


def test_a_report_refused_for_good_makes_an_alert_each_time(state: CollectorState) -> None:
    a, b = add_device(state), add_device(state)
    broken = Refused(RefusalKind.SCHEMA, "report does not match schema version 1", ())
    ingest(state, sub(a, None, broken))
    taken = report(state, a)
    ingest(state, sub(a, taken))
    ingest(state, sub(b, {**report(state, b), "report_id": taken["report_id"]}))
    assert kinds(state, a) == ["report_refused"]
    assert alerts(state, a)[0].payload["detail"].startswith("schema: ")
    assert kinds(state, b) == ["report_refused"]
    assert alerts(state, b)[0].payload["detail"].startswith(refusals.ID_TAKEN.kind.value)


def test_the_sweep_alerts_once_for_a_stale_device_and_an_expired_approval(
    state: CollectorState,
) -> None:
    quiet, expired = add_device(state), add_device(state)
    for dev in (quiet, expired):
        ingest(state, sub(dev, report(state, dev, pending=1)))
    old = utcnow() - timedelta(days=3)
    yesterday = date.today() - timedelta(days=1)
    execute(
        state,
        update(Device).where(Device.id == quiet.id).values(last_seen_at=old),
        update(Device).where(Device.id == expired.id).values(approval_expires=yesterday),
    )
    now = utcnow()
    assert sweep(state.engine, timedelta(hours=24), now) == 2
    assert sweep(state.engine, timedelta(hours=24), now + timedelta(minutes=1)) == 0
    assert kinds(state, quiet) == ["non_compliant", "stale"]
    stale = alerts(state, quiet)[-1]
    assert stale.payload["state"] == {"old": "non_compliant", "new": "stale"}
    assert {r["id"] for r in stale.payload["rules"]} == {"PATCH-002", "ADM-002"}
    assert kinds(state, expired) == ["non_compliant", "approval_expired"]
    # A report from the expired device finds the approval ended too: the same change, no alert.
    ingest(state, sub(expired, report(state, expired)))
    assert kinds(state, expired) == ["non_compliant", "approval_expired"]


def test_an_expired_approval_found_by_a_report_first_is_not_alerted_again_by_the_sweep(
    state: CollectorState,
) -> None:
    dev = add_device(state)
    yesterday = date.today() - timedelta(days=1)
    execute(state, update(Device).where(Device.id == dev.id).values(approval_expires=yesterday))
    ingest(state, sub(dev, report(state, dev)))
    assert kinds(state, dev) == ["approval_expired"]
    assert alerts(state, dev)[0].severity == "high"
    assert sweep(state.engine, timedelta(hours=24), utcnow()) == 0
    assert kinds(state, dev) == ["approval_expired"]


def test_approvals_ending_in_30_and_7_days_alert_once_each(state: CollectorState) -> None:
    today, now = date.today(), utcnow()
    soon, later, far = add_device(state), add_device(state), add_device(state)
    ends = {soon: today + timedelta(days=5), later: today + timedelta(days=20)}
    ends[far] = today + timedelta(days=31)
    for dev, expires in ends.items():
        execute(state, update(Device).where(Device.id == dev.id).values(approval_expires=expires))
    assert approval_alerts(state.engine, today, now) == 2
    assert approval_alerts(state.engine, today, now) == 0  # the next pass: nothing new
    assert (kinds(state, soon), kinds(state, later), kinds(state, far)) == (
        ["approval_7d"], ["approval_30d"], [],
    )  # fmt: skip
    # 14 days on, `later` ends within 7 days: its second alert; `far` is within 30 now.
    assert approval_alerts(state.engine, today + timedelta(days=14), now) == 2
    assert kinds(state, later) == ["approval_30d", "approval_7d"]
    assert kinds(state, far) == ["approval_30d"]
    assert "ends within 7 days" in alerts(state, later)[-1].payload["title"]


def test_a_revoked_device_gets_no_approval_alert(state: CollectorState) -> None:
    dev = add_device(state, revoked=True)
    soon = date.today() + timedelta(days=3)
    execute(state, update(Device).where(Device.id == dev.id).values(approval_expires=soon))
    assert approval_alerts(state.engine, date.today(), utcnow()) == 0


def test_an_alert_is_lost_with_its_transaction(state: CollectorState) -> None:
    """The alert and the change are one transaction: a batch that fails writes neither."""
    dev = add_device(state)
    body = report(state, dev, pending=1)
    try:
        with state.engine.begin() as connection:
            ingest_batch(connection, [sub(dev, body)], state.served_policy.evaluator, utcnow())
            raise RuntimeError("the transaction ends here")
    except RuntimeError:
        pass
    assert kinds(state, dev) == []
    ingest(state, sub(dev, body))
    assert kinds(state, dev) == ["non_compliant"]
