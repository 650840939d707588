"""A 200 from the collector must mean the write is in the database; reports that arrive
together must all be answered and counted.

The commit tests hold a lock that keeps the collector's transaction from committing (SQLite:
the write lock, BEGIN IMMEDIATE; PostgreSQL: an EXCLUSIVE lock on one table the request writes
at commit) and ask whether an answer arrives while the write cannot have happened.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import requests
from psycopg import sql
from sqlalchemy.engine import make_url

from tests.system.conftest import BACKENDS, Collector, EnrolledDevice, StartCollector

pytestmark = pytest.mark.system

NewReport = Callable[[str], dict[str, Any]]
EARLY_ANSWER_WAIT_S = 3.0


@contextlib.contextmanager
def commit_blocked(collector: Collector, pg_table: str) -> Iterator[None]:
    """While inside, the collector's transaction cannot commit."""
    if collector.database_url is None:
        lite = sqlite3.connect(collector.data_dir / "collector.db", isolation_level=None)
        try:
            lite.execute("BEGIN IMMEDIATE")
            yield
            lite.execute("ROLLBACK")
        finally:
            lite.close()
        return
    url = make_url(collector.database_url).set(drivername="postgresql")
    with psycopg.connect(url.render_as_string(hide_password=False)) as pg:
        pg.execute(sql.SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(sql.Identifier(pg_table)))
        yield
        pg.rollback()


def answered_while_blocked(
    collector: Collector, pg_table: str, call: Callable[[], requests.Response]
) -> tuple[int | None, requests.Response]:
    """(status answered while the commit was blocked, or None; the final response)."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        with commit_blocked(collector, pg_table):
            future = pool.submit(call)
            try:
                early: int | None = future.result(EARLY_ANSWER_WAIT_S).status_code
            except concurrent.futures.TimeoutError:
                early = None
        return early, future.result(60)


def test_enrolment_is_answered_after_its_commit(collector: Collector) -> None:
    registration = collector.register()
    body = {"token": registration.token, "hostname": "laptop", "hardware_id_hash": "ab" * 32}

    def enrol() -> requests.Response:
        return requests.post(collector.url + "/api/v1/enroll", json=body, timeout=60)

    early, final = answered_while_blocked(collector, "devices", enrol)
    assert final.status_code == 200, final.text
    assert early is None, f"answered {early} while the enrolment could not be committed"


def test_a_report_is_answered_after_its_commit(
    collector: Collector, tmp_path: Path, new_report: NewReport
) -> None:
    """On SQLite the report's first flush already needs the write lock, so the answer waits;
    on PostgreSQL the history events are written at commit, after the answer."""
    device = collector.enrol(tmp_path / "agent")
    report = new_report(device.device_id)

    def send() -> requests.Response:
        return collector.post_report(device.auth, report)

    early, final = answered_while_blocked(collector, "events", send)
    assert final.status_code == 200, final.text
    assert early is None, f"answered {early} while the report could not be committed"
    deadline = time.monotonic() + 10
    while collector.device(device.device_id)["reports_received"] != 1:
        assert time.monotonic() < deadline
        time.sleep(0.05)


@pytest.mark.parametrize("backend", BACKENDS)
def test_reports_arriving_together_are_all_answered_and_counted(
    backend: str, start_collector: StartCollector, tmp_path: Path, new_report: NewReport
) -> None:
    own = start_collector(backend)  # it may hang: never the shared collector
    try:
        devices = [own.enrol(tmp_path / f"agent-{n}") for n in range(4)]
        reports = [(d, new_report(d.device_id)) for d in devices for _ in range(2)]

        def send(item: tuple[EnrolledDevice, dict[str, Any]]) -> int:
            device, report = item
            try:
                return own.post_report(device.auth, report, timeout=5).status_code
            except requests.Timeout:
                return 0

        with concurrent.futures.ThreadPoolExecutor(len(reports)) as pool:
            statuses = list(pool.map(send, reports))
        assert statuses == [200] * len(reports), "0 = no answer within 5 s"
        for _, report in reports:
            own.wait_for_report(report["report_id"])
        for device in devices:
            assert own.device(device.device_id)["reports_received"] == 2
    finally:
        own.stop(grace_s=1)  # a hung collector ignores SIGTERM
