"""The dashboard's charts (server_stub/dashboard/charts.py) and the daily counts behind the
fleet trend (server_stub/storage/fleet_days.py, on SQLite and PostgreSQL)."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine, insert
from sqlalchemy.orm import Session

from server_stub.dashboard.charts import COLOURS, Segment, device_segments, fleet_trend
from server_stub.storage.fleet_days import days_since, record_day
from server_stub.storage.tables import Device

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def at(days: float) -> datetime:
    return T0 + timedelta(days=days)


def test_a_devices_segments_cover_the_window_from_its_changes() -> None:
    changes = [
        (at(-5), None, "unknown"),
        (at(2), "unknown", "compliant"),
        (at(6), "compliant", "stale"),
    ]
    segments = device_segments(changes, "stale", at(0), at(10))
    assert segments == [
        Segment("unknown", at(0), at(2)),  # the state it was in when the window opened
        Segment("compliant", at(2), at(6)),
        Segment("stale", at(6), at(10)),
    ]


def test_a_device_without_changes_in_the_window_is_in_its_state_throughout() -> None:
    assert device_segments([], "compliant", at(0), at(3)) == [Segment("compliant", at(0), at(3))]
    first_change = [(at(1), "awaiting_enrolment", "unknown")]
    assert device_segments(first_change, "unknown", at(0), at(3))[0].state == "awaiting_enrolment"


def test_the_fleet_trend_stacks_each_day_and_scales_to_the_busiest() -> None:
    first = date(2026, 11, 1)
    days = {first: {"compliant": 3, "non_compliant": 1}, first + timedelta(days=2): {"stale": 4}}
    svg = str(fleet_trend(days, first, first + timedelta(days=2)))
    rects = re.findall(
        r'<rect x="([\d.]+)" y="([\d.]+)" width="[\d.]+" height="([\d.]+)" fill="(#\w+)"', svg
    )
    assert len(rects) == 3  # the missing day draws nothing
    heights = {fill: float(h) for _, _, h, fill in rects}
    assert heights[COLOURS["stale"]] == pytest.approx(180.0)  # the busiest day, full height
    assert heights[COLOURS["compliant"]] == pytest.approx(135.0)
    assert "2026-11-01: 3 compliant" in svg and "<script" not in svg


def test_the_day_keeps_its_last_count(engine: Engine) -> None:
    def add(n: int, state: str) -> None:
        rows = [
            {
                "id": str(uuid.uuid4()), "name": f"{state}-{uuid.uuid4().hex[:8]}",
                "owner": "o", "department": "d", "approved_by": "h", "justification": "j",
                "approval_expires": date(2099, 1, 1),
                "registered_at": T0, "state": state, "failing_rules": [], "reports_received": 0,
            }
            for i in range(n)
        ]  # fmt: skip
        with engine.begin() as connection:
            connection.execute(insert(Device), rows)

    add(2, "compliant")
    record_day(engine, date(2026, 11, 1))
    add(3, "stale")
    record_day(engine, date(2026, 11, 2))
    add(1, "compliant")
    record_day(engine, date(2026, 11, 2))  # again the same day: replaced, not added
    with Session(engine) as session:
        assert days_since(session, date(2026, 11, 1)) == {
            date(2026, 11, 1): {"compliant": 2},
            date(2026, 11, 2): {"compliant": 3, "stale": 3},
        }
        assert list(days_since(session, date(2026, 11, 2))) == [date(2026, 11, 2)]
