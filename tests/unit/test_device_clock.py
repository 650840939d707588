"""A device's clock never costs it a report: a report from two days ahead or behind is stored,
judged by the collector's clock (ADM-003 shows the offset) and becomes the device's state.
SQLite always; PostgreSQL too when OUTPOST_TEST_PG_URL names a server."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from server_stub.api.agents import sent_at
from server_stub.ingest.evaluation import clock_offset_text
from server_stub.ingest.outcomes import Accepted
from server_stub.state import CollectorState
from server_stub.storage.clock import utcnow
from tests.unit.test_ingest_batch import (
    NEW,
    add_device,
    device,
    events,
    report,
    rule_states,
    stored_reports,
)
from tests.unit.test_ingest_batch import state as state  # the fixture, SQLite and PostgreSQL
from tests.unit.test_report_writer import incoming, writer

AHEAD = timedelta(days=2, hours=3)


def test_a_report_two_days_ahead_is_stored_and_fails_the_clock_rule(
    state: CollectorState,
) -> None:
    a, now = add_device(state), utcnow()
    ahead = report(state, a, collected=now + AHEAD)
    [answer] = writer(state).store_batch([incoming(a.secret, ahead)])  # read, then stored
    assert answer == Accepted(False, "non_compliant", ["ADM-003"])
    assert stored_reports(state) == {ahead["report_id"]: a.id}
    rule = rule_states(state, a)["ADM-003"]
    assert rule["status"] == "fail"
    assert rule["evidence"] == ["clock skew minutes: 3060 (at most 10) (clock 2 days 3 h fast)"]
    row = device(state, a)
    assert (row["state"], row["failing_rules"]) == ("non_compliant", ["ADM-003"])
    assert row["last_collected_at"] == ahead["collected_at"]  # the device's claim, as sent


def test_a_correct_report_after_clears_the_clock_rule(state: CollectorState) -> None:
    a, now = add_device(state), utcnow()
    ahead, right = report(state, a, collected=now + AHEAD), report(state, a, collected=now)
    store = writer(state).store_batch
    assert store([incoming(a.secret, ahead)])[0] == Accepted(False, "non_compliant", ["ADM-003"])
    assert store([incoming(a.secret, right)]) == [NEW]
    assert rule_states(state, a)["ADM-003"]["status"] == "pass"
    assert device(state, a)["state"] == "compliant"
    assert ("rule", "ADM-003", "fail", "pass", right["report_id"]) in events(state, a)


def test_a_report_two_days_behind_that_turns_the_firewall_off_shows_it(
    state: CollectorState,
) -> None:
    """Its collected_at is older than the device's last one, yet it arrived last: it decides."""
    a, now = add_device(state), utcnow()
    store = writer(state).store_batch
    assert store([incoming(a.secret, report(state, a, collected=now))]) == [NEW]
    behind = report(state, a, collected=now - AHEAD)
    security = behind["probes"]["device_security"]
    security["data"] = {**security["data"], "firewall_enabled": False}  # the shared one untouched
    [answer] = store([incoming(a.secret, behind)])
    assert answer == Accepted(False, "non_compliant", ["SEC-002", "ADM-003"])
    rules = rule_states(state, a)
    assert rules["SEC-002"]["status"] == "fail"
    assert rules["ADM-003"]["evidence"][0].endswith("(clock 2 days 3 h slow)")
    assert device(state, a)["failing_rules"] == ["SEC-002", "ADM-003"]


@pytest.mark.parametrize(
    ("offset_s", "text"),
    [
        (0, "clock right to the minute"),
        (-29, "clock right to the minute"),
        (31, "clock 1 min fast"),
        (-600, "clock 10 min slow"),
        (3 * 3600 + 5 * 60, "clock 3 h 5 min fast"),
        (-(86400 + 3600), "clock 1 day 1 h slow"),
        (-(2 * 86400 + 3 * 3600), "clock 2 days 3 h slow"),
    ],
)
def test_the_offset_reads_to_the_minute(offset_s: int, text: str) -> None:
    assert clock_offset_text(offset_s) == text


def test_a_report_that_waited_in_the_spool_is_judged_by_when_it_was_sent(
    state: CollectorState,
) -> None:
    """Collected two days ago, sent now by a right clock: no clock fault. Sent with a Date two
    days ahead: the clock is wrong, whatever the report's own time."""
    a, now = add_device(state), utcnow()
    waited = report(state, a, collected=now - AHEAD)
    sent_now = replace(incoming(a.secret, waited), sent_at=now)
    assert writer(state).store_batch([sent_now]) == [NEW]
    assert rule_states(state, a)["ADM-003"]["status"] == "pass"
    fresh = report(state, a, collected=now)
    sent_ahead = replace(incoming(a.secret, fresh), sent_at=now + AHEAD)
    [answer] = writer(state).store_batch([sent_ahead])
    assert answer == Accepted(False, "non_compliant", ["ADM-003"])


def test_a_clock_behind_shows_in_the_date_it_sends(state: CollectorState) -> None:
    a, now = add_device(state), utcnow()
    behind = report(state, a, collected=now - AHEAD)
    [answer] = writer(state).store_batch([replace(incoming(a.secret, behind), sent_at=now - AHEAD)])
    assert answer == Accepted(False, "non_compliant", ["ADM-003"])
    assert rule_states(state, a)["ADM-003"]["evidence"] == [
        "clock skew minutes: 3060 (at most 10) (clock 2 days 3 h slow)"
    ]


def test_a_report_made_by_a_clock_ahead_and_sent_by_a_right_one_shows_the_clock_was_wrong(
    state: CollectorState,
) -> None:
    """Collected "two days from now", sent now: it was made by a clock two days fast."""
    a, now = add_device(state), utcnow()
    made_ahead = report(state, a, collected=now + AHEAD)
    [answer] = writer(state).store_batch([replace(incoming(a.secret, made_ahead), sent_at=now)])
    assert answer == Accepted(False, "non_compliant", ["ADM-003"])
    assert rule_states(state, a)["ADM-003"]["evidence"] == [
        "clock skew minutes: 3060 (at most 10) (clock 2 days 3 h fast)"
    ]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Fri, 04 Dec 2026 21:15:00 GMT", datetime(2026, 12, 4, 21, 15, tzinfo=UTC)),
        ("Fri, 04 Dec 2026 22:15:00 +0100", datetime(2026, 12, 4, 21, 15, tzinfo=UTC)),
        (None, None),
        ("", None),
        ("yesterday", None),
        ("Fri, 99 Dec 2026 21:15:00 GMT", None),
    ],
)
def test_the_http_date_is_read_as_utc_or_not_at_all(
    header: str | None, expected: datetime | None
) -> None:
    assert sent_at(header) == expected
