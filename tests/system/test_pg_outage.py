"""PostgreSQL goes down under a running collector: 503 with Retry-After, agents keep their reports;
it comes back: the same collector process recovers and every report arrives once.

On a throwaway cluster (tests/system/pg_cluster.py), never the shared server on 5432.
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import text

from tests.system.conftest import (
    AGENT,
    Collector,
    EnrolledDevice,
    clean_env,
    free_port,
    run_agent,
)
from tests.system.pg_cluster import PgCluster
from tests.system.soak import spooled

pytestmark = [pytest.mark.system, pytest.mark.root]

NewReport = Callable[[str], dict[str, Any]]
ACCEPTED = re.compile(r"report ([0-9a-f-]{36}) accepted")
RECOVERY_S = 20.0  # from the cluster's start to the first report the collector accepts
# The collector asks for 30 s; an agent waits up to 60 s in all within one send, then keeps it.
SEND_WAIT_S = 120.0


@pytest.fixture
def cluster() -> Iterator[PgCluster]:
    made = PgCluster.create()
    try:
        yield made
    finally:
        made.destroy()


@pytest.fixture
def collector(cluster: PgCluster, tmp_path: Path) -> Iterator[Collector]:
    data_dir = tmp_path / "collector"
    data_dir.mkdir()
    running = Collector("postgresql", data_dir, cluster.create_database(), free_port())
    running.start()
    token = running.cli("token", "create", "--name", "outage-tests")
    assert token.returncode == 0, token.stderr
    running.admin_token = token.stdout.strip().splitlines()[-1]
    try:
        yield running
    finally:
        running.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


def send_accepted(device: EnrolledDevice) -> str:
    done = run_agent(device.state_dir, "send")
    found = ACCEPTED.search(done.stdout)
    assert done.returncode == 0 and found, done.stdout + done.stderr
    return found[1]


def spooled_ids(device: EnrolledDevice) -> set[str]:
    """Report ids in the spool: files are <sequence>-<report id>.json."""
    return {path.stem.split("-", 1)[1] for path in spooled(device.state_dir)}


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out after {timeout:.0f} s: {what}"
        time.sleep(0.2)


def test_database_outage_answers_503_keeps_reports_and_recovers_without_a_restart(
    cluster: PgCluster, collector: Collector, tmp_path: Path, new_report: NewReport
) -> None:
    devices = [collector.enrol(tmp_path / f"agent-{n}") for n in range(3)]
    made = {send_accepted(device) for device in devices}  # a pooled connection per request
    assert collector.process is not None
    pid = collector.process.pid

    cluster.stop("fast")
    refused = collector.post_report(devices[0].auth, new_report(devices[0].device_id))
    assert refused.status_code == 503, refused.text
    assert int(refused.headers["Retry-After"]) > 0
    assert requests.get(collector.url + "/healthz", timeout=10).status_code != 200

    # Every agent sends during the outage; each report is spooled before it is sent.
    senders = [
        subprocess.Popen(
            [AGENT, "--state-dir", str(d.state_dir), "send"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=clean_env(),
        )
        for d in devices
    ]
    try:
        before = {d.device_id: spooled_ids(d) for d in devices}
        wait_until(lambda: all(len(spooled_ids(d)) == 1 for d in devices), 60, "spooled")
        waiting = {d.device_id: spooled_ids(d) for d in devices}
        assert all(before[d] <= waiting[d] for d in before)
        time.sleep(1)
        assert all(s.poll() is None for s in senders), "agents wait for the Retry-After"
        # The laptop is shut down in the middle of the wait: its report must survive in the spool.
        senders[0].send_signal(signal.SIGKILL)
        senders[0].wait(10)
        assert spooled_ids(devices[0]) == waiting[devices[0].device_id]

        cluster.start()
        started = time.monotonic()
        probe, report = devices[1], new_report(devices[1].device_id)
        while True:  # the same process, no restart: the first 200 after the cluster's start
            answer = collector.post_report(probe.auth, report)
            if answer.status_code == 200:
                made.add(report["report_id"])
                break
            assert answer.status_code == 503, answer.text
            assert time.monotonic() - started < RECOVERY_S, "the collector did not recover"
            time.sleep(0.5)
        assert collector.process.pid == pid and collector.process.poll() is None

        for sender in senders[1:]:  # their retry after the Retry-After lands on a live database
            out, err = sender.communicate(timeout=SEND_WAIT_S)
            assert sender.returncode == 0, out + err
            found = ACCEPTED.search(out)
            assert found, out + err
            made.add(found[1])
    finally:
        for sender in senders:
            if sender.poll() is None:
                sender.kill()
                sender.wait(10)
    # The killed agent's report goes with its next flush.
    flushed = run_agent(devices[0].state_dir, "send", "--flush-only")
    assert flushed.returncode == 0, flushed.stdout + flushed.stderr
    assert "sent 1 spooled report(s); 0 waiting" in flushed.stdout
    made |= waiting[devices[0].device_id]
    for device in devices:
        assert spooled_ids(device) == set(), f"{device.name} still has reports spooled"
        assert not list((device.state_dir / "spool" / "rejected").glob("*.json"))

    stored = {d.device_id: stored_ids(collector, d.device_id) for d in devices}
    every = [report_id for ids in stored.values() for report_id in ids]
    assert len(every) == len(set(every)), "a report was stored twice"
    assert set(every) == made, f"lost: {made - set(every)}; unknown: {set(every) - made}"
    for device in devices:
        detail = collector.device(device.device_id)
        assert detail["reports_received"] == len(stored[device.device_id])


def stored_ids(collector: Collector, device_id: str) -> list[str]:
    with collector.engine.connect() as conn:
        rows = conn.execute(text("SELECT id FROM reports WHERE device_id = :d"), {"d": device_id})
        return [str(row[0]) for row in rows]
