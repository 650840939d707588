"""The sweeper on a real collector process: thousands of devices going stale at once are swept
(in batches, off the event loop) while /healthz, polled every 10 ms, answers every time. Timing
goals live in bench/sweep.py; here every answer must simply come, and be 200."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import requests
from sqlalchemy import insert, text, update

from server_stub.storage.tables import Device, Report
from tests.system.conftest import AGENT_ENV, Collector, StartCollector, run_agent

pytestmark = pytest.mark.system

DEVICES = 3000  # three batches of 1,000
POLL_S = 0.01
ANSWER_TIMEOUT_S = 30.0  # a request that never comes fails; this is no timing goal
SWEPT_WAIT_S = 120.0


def add_fresh_devices(collector: Collector, count: int) -> None:
    now = datetime.now(UTC)
    tag = uuid.uuid4().hex[:8]
    rows = [
        {
            "id": str(uuid.uuid4()),
            "name": f"sweep-{tag}-{n:05d}",
            "owner": "Ada",
            "department": "Press",
            "approved_by": "Head",
            "justification": "sweep test",
            "approval_expires": date(2099, 12, 31),
            "registered_at": now,
            "state": "compliant",
            "failing_rules": [],
            "reports_received": 1,
            "last_seen_at": now,
        }
        for n in range(count)
    ]
    with collector.engine.begin() as connection:
        connection.execute(insert(Device), rows)


def poll_healthz(collector: Collector, stop: threading.Event, answers: list[str]) -> None:
    while not stop.is_set():
        try:
            code = requests.get(collector.url + "/healthz", timeout=ANSWER_TIMEOUT_S).status_code
            answers.append(str(code))
        except requests.RequestException as exc:  # recorded: the test fails on it below
            answers.append(f"no answer: {exc}")
        time.sleep(POLL_S)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_healthz_answers_throughout_a_sweep_of_thousands(
    start_collector: StartCollector, monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    monkeypatch.setitem(AGENT_ENV, "OUTPOST_SWEEP_INTERVAL_S", "1")  # a pass every second
    collector = start_collector(backend)
    add_fresh_devices(collector, DEVICES)
    answers: list[str] = []
    stop = threading.Event()
    poller = threading.Thread(target=poll_healthz, args=(collector, stop, answers))
    poller.start()
    try:
        long_ago = datetime.now(UTC) - timedelta(days=3)
        with collector.engine.begin() as connection:  # all due at once for the next pass
            connection.execute(update(Device).values(last_seen_at=long_ago))
        deadline = time.monotonic() + SWEPT_WAIT_S
        count = "SELECT count(*) FROM devices WHERE state = 'stale'"
        while collector.scalar(count) < DEVICES:
            assert time.monotonic() < deadline, f"not swept: {collector.log_text()[-2000:]}"
            time.sleep(0.1)
        # The pass logs its count after its last batch commits: the rows can be seen first.
        while "sweeper: 3000 device(s) changed state" not in collector.log_text():
            assert time.monotonic() < deadline, f"no count logged: {collector.log_text()[-2000:]}"
            time.sleep(0.1)
    finally:
        stop.set()
        poller.join()
    assert answers and set(answers) == {"200"}, sorted(set(answers))


def test_the_sweeper_purges_reports_past_retention_in_a_real_collector(
    start_collector: StartCollector, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A real agent's reports, two of them aged past a 30-day retention: the running collector
    deletes the older one and keeps the device's latest, however old, and says so in its log."""
    monkeypatch.setitem(AGENT_ENV, "OUTPOST_SWEEP_INTERVAL_S", "1")
    monkeypatch.setitem(AGENT_ENV, "OUTPOST_REPORT_RETENTION_DAYS", "30")
    collector = start_collector("sqlite")
    device = collector.enrol(tmp_path / "state")
    for _ in range(3):
        assert run_agent(device.state_dir, "send").returncode == 0
    stored = "SELECT id FROM reports WHERE device_id = :d ORDER BY received_at"
    with collector.engine.connect() as connection:
        sent = [row[0] for row in connection.execute(text(stored), {"d": device.device_id})]
    old, older_latest, fresh = sent
    aged = datetime.now(UTC) - timedelta(days=31)
    with collector.engine.begin() as connection:
        connection.execute(
            update(Report).where(Report.id.in_([old, older_latest])).values(received_at=aged)
        )
        connection.execute(  # as if the aged report had been the last one received
            update(Device).where(Device.id == device.device_id).values(last_report_id=older_latest)
        )
    deadline = time.monotonic() + SWEPT_WAIT_S
    ids = "SELECT count(*) FROM reports WHERE id = :r"
    while collector.scalar(ids, r=old):
        assert time.monotonic() < deadline, f"never purged: {collector.log_text()[-2000:]}"
        time.sleep(0.2)
    assert collector.scalar(ids, r=older_latest) == 1 and collector.scalar(ids, r=fresh) == 1
    assert "retention: deleted 1 report(s) older than 30 days" in collector.log_text()
