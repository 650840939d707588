"""The sweeper on a real collector process: thousands of devices going stale at once are swept
(in batches, off the event loop) while /healthz, polled every 10 ms, answers every time. Timing
goals live in bench/sweep.py; here every answer must simply come, and be 200."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
import requests
from sqlalchemy import insert, update

from server_stub.storage.tables import Device
from tests.system.conftest import AGENT_ENV, Collector, StartCollector

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
    finally:
        stop.set()
        poller.join()
    assert answers and set(answers) == {"200"}, sorted(set(answers))
    assert "sweeper: 3000 device(s) changed state" in collector.log_text()
