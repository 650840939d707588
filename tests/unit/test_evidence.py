"""Audit evidence for a period: share of time compliant and every violation (start, end,
duration) from the device's history, as a printable page and CSV; the audit log as CSV; bad
ranges refused."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from server_stub.storage.audit import record
from server_stub.storage.devices import register_device
from server_stub.storage.evidence import evidence
from server_stub.storage.tables import AuditEntry, Device, Event
from tests.unit.test_dashboard import Env, log_in, make_env

START = datetime(2026, 3, 1, tzinfo=UTC)  # the period: 2026-03-01 .. 2026-03-04, four days
DAY = timedelta(days=1)
RANGE = "first=2026-03-01&last=2026-03-04"


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    yield from make_env(tmp_path)


def device(env: Env, name: str, owner: str = "Ada") -> str:
    with env.state.sessions.begin() as session:
        found = register_device(
            session, name=name, owner=owner, department="Press", approved_by="Head",
            justification="x", expires=date(2027, 1, 1), token_ttl_days=7, actor="tests",
        )  # fmt: skip
        session.execute(
            update(Device)
            .where(Device.id == found.device_id)
            .values(registered_at=START - 10 * DAY)
        )
        return found.device_id


def history(env: Env, device_id: str, *events: tuple[datetime, str, str | None, str]) -> None:
    with env.state.sessions.begin() as session:
        for at, kind, rule_id, new in events:
            session.add(Event(device_id=device_id, at=at, kind=kind, rule_id=rule_id, new=new))


def laptop(env: Env) -> str:
    """Compliant at the start; non-compliant on day 3 (PATCH-002) for one day; NET-001 failing
    since the day before the period and never fixed (its state stays compliant: a test fixture,
    the rule events and the state events are read apart)."""
    dev = device(env, "laptop-a", owner="=HYPERLINK(1)")
    history(
        env, dev,
        (START - 5 * DAY, "state", None, "compliant"),
        (START - DAY, "rule", "NET-001", "fail"),
        (START + 2 * DAY, "state", None, "non_compliant"),
        (START + 2 * DAY, "rule", "PATCH-002", "fail"),
        (START + 3 * DAY, "rule", "PATCH-002", "pass"),
        (START + 3 * DAY, "state", None, "compliant"),
        (START + 9 * DAY, "state", None, "non_compliant"),  # after the period: not counted
    )  # fmt: skip
    return dev


def test_share_of_time_compliant_and_violations_clipped_to_the_period(env: Env) -> None:
    dev = laptop(env)
    late = device(env, "laptop-b")
    with env.state.sessions.begin() as session:
        session.execute(
            update(Device).where(Device.id == late).values(registered_at=START + 3 * DAY)
        )
    history(env, late, (START + 3 * DAY + timedelta(hours=12), "state", None, "compliant"))
    with env.state.sessions() as session:
        a, b = evidence(session, START, START + 4 * DAY)
    assert a.id == dev and a.observed_s == 4 * 86400
    assert a.compliant_share == pytest.approx(0.75)
    assert [(v.rule_id, v.start, v.end, v.seconds / 3600) for v in a.violations] == [
        ("NET-001", START, None, 96.0),
        ("PATCH-002", START + 2 * DAY, START + 3 * DAY, 24.0),
    ]
    # Registered on day 4, unknown for 12 h, then compliant: half of its one day.
    assert b.observed_s == 86400 and b.compliant_share == pytest.approx(0.5)
    assert b.violations == []


def test_the_printable_page_and_the_csv(env: Env) -> None:
    laptop(env)
    log_in(env.client)
    page = env.client.get(f"/evidence?{RANGE}")
    assert page.status_code == 200
    assert "Audit evidence, 2026-03-01 to 2026-03-04" in page.text and "75.0 %" in page.text
    assert "ongoing" in page.text and "&#34;=HYPERLINK" not in page.text
    answer = env.client.get(f"/evidence.csv?{RANGE}")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    assert 'filename="evidence-2026-03-01-2026-03-04.csv"' in answer.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert [(r["violation_rule"], r["violation_end"], r["violation_hours"]) for r in rows] == [
        ("NET-001", "ongoing", "96.00"),
        ("PATCH-002", "2026-03-04T00:00:00Z", "24.00"),
    ]
    assert {r["compliant_share"] for r in rows} == {"0.7500"}
    assert {r["owner"] for r in rows} == {"'=HYPERLINK(1)"}  # never a spreadsheet formula


def test_the_audit_log_of_the_period_as_csv(env: Env) -> None:
    with env.state.sessions.begin() as session:
        record(session, "ada", "inside", "x", "-2+3")
        record(session, "ada", "outside", "y", None)
        entries = session.query(AuditEntry).filter(AuditEntry.action.in_(("inside", "outside")))
        for entry in entries:
            entry.at = START + DAY if entry.action == "inside" else START + 5 * DAY
    log_in(env.client)
    answer = env.client.get(f"/audit.csv?{RANGE}")
    assert answer.status_code == 200
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert [(r["action"], r["detail"], r["at"]) for r in rows] == [
        ("inside", "'-2+3", "2026-03-02T00:00:00Z")
    ]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("first=2026-03-05&last=2026-03-01", "The first day comes after the last."),
        ("first=yesterday", "Give the dates as YYYY-MM-DD."),
        ("first=2000-01-01&last=2026-01-01", "Ask for at most ten years at a time."),
    ],
)
def test_a_bad_range_is_refused_clearly(env: Env, query: str, message: str) -> None:
    log_in(env.client)
    for path in ("/evidence", "/evidence.csv", "/audit.csv"):
        answer = env.client.get(f"{path}?{query}")
        assert answer.status_code == 400 and message in answer.text


def test_logged_out_visitors_are_sent_to_the_login_page(env: Env) -> None:
    for path in ("/evidence", "/evidence.csv", "/audit.csv"):
        answer = env.client.get(path)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
