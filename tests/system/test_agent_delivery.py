"""The real `agent send` and `agent status` when the world misbehaves: a clock set back or run
ahead, this device refused, a collector that asks for a pause."""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from tests.system.conftest import AGENT, Collector, StartCollector, run, run_agent
from tests.unit.scripted import scripted_server

pytestmark = pytest.mark.system


def send(
    state: Path, *options: str, clock: str | None = None, config: Path | None = None
) -> tuple[int, str, str]:
    """`agent send`, under libfaketime when `clock` is an offset such as '-1d'."""
    assert shutil.which("faketime"), "libfaketime is required (apt-get install faketime)"
    prefix = ["faketime", "-f", clock] if clock else []
    configured = ["--config", str(config)] if config else []
    done = run([*prefix, AGENT, "--state-dir", str(state), *configured, "send", *options])
    return done.returncode, done.stdout, done.stderr


def spooled_id(stderr: str) -> str:
    found = re.search(r"report (\S+) is spooled", stderr)
    assert found, stderr
    return found[1]


def spool_order(state: Path) -> list[str]:
    files = sorted((state / "spool").glob("[0-9]*-*.json"), key=lambda p: int(p.name.split("-")[0]))
    return [json.loads(p.read_text())["report_id"] for p in files]


def status(state: Path) -> dict[str, Any]:
    done = run_agent(state, "status", "--json")
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def stored_in_order(collector: Collector, device_id: str) -> list[str]:
    with collector.engine.connect() as conn:
        from sqlalchemy import text

        rows = conn.execute(
            text("SELECT id FROM reports WHERE device_id = :d ORDER BY received_at"),
            {"d": device_id},
        )
        return [str(row[0]) for row in rows]


def test_a_clock_set_back_neither_reorders_nor_drops_the_newest(
    start_collector: StartCollector, tmp_path: Path
) -> None:
    """Old agents named spool files by the wall clock: a report made after the clock was set
    back sorted first, and a full spool dropped it as the 'oldest'."""
    collector = start_collector("sqlite")
    state = tmp_path / "state"
    device = collector.enrol(state)
    config = tmp_path / "agent.toml"
    config.write_text("[spool]\nmax_reports = 2\n")
    collector.stop()
    made = []
    for clock in (None, "-1d", "-2d"):  # each report is made after the clock went back a day
        code, _, stderr = send(state, config=config, clock=clock)
        assert code == 0, stderr
        made.append(spooled_id(stderr))
    assert spool_order(state) == made[1:], "the spool must keep the newest, in the order made"
    assert status(state)["spool"]["dropped"] == 1
    collector.start()
    code, _, stderr = send(state, "--flush-only")
    assert code == 0, stderr
    for report_id in made[1:]:
        collector.wait_for_report(report_id)
    assert stored_in_order(collector, device.device_id) == made[1:]


def test_a_report_made_two_days_ahead_is_delivered_and_shows_the_wrong_clock(
    start_collector: StartCollector, tmp_path: Path
) -> None:
    """A report made while the clock ran two days ahead waits in the spool; the collector
    accepts it (a clock is no reason to lose a report), fails ADM-003 on it, and the new report
    clears it. (A report refused for good is counted: tests/unit/test_flush.py.)"""
    collector = start_collector("sqlite")
    state = tmp_path / "state"
    device = collector.enrol(state)
    collector.stop()
    code, _, stderr = send(state, clock="+2d")
    assert code == 0, stderr
    ahead = spooled_id(stderr)
    collector.start()
    code, stdout, stderr = send(state)
    assert code == 0, stderr
    assert " accepted" in stdout and "refused" not in stderr
    shown = status(state)["spool"]
    assert shown["depth"] == 0 and shown["rejected"] == 0
    collector.wait_for_report(ahead)
    failed = "SELECT count(*) FROM events WHERE device_id = :d AND rule_id = 'ADM-003' AND new = :s"
    assert collector.scalar(failed + " AND report_id = :r", d=device.device_id, s="fail", r=ahead)
    rule = "SELECT status FROM rule_states WHERE device_id = :d AND rule_id = 'ADM-003'"
    deadline = time.monotonic() + 10  # the new report's 200 may come before its commit
    while collector.scalar(rule, d=device.device_id) != "pass":
        assert time.monotonic() < deadline, "the report with the right clock never cleared it"
        time.sleep(0.05)


def test_this_device_refused_still_exits_1_and_keeps_the_report(
    start_collector: StartCollector, tmp_path: Path
) -> None:
    collector = start_collector("sqlite")
    state = tmp_path / "state"
    device = collector.enrol(state)
    assert collector.cli("device", "revoke", device.name).returncode == 0
    code, _, stderr = send(state)
    assert code == 1 and "refused this device" in stderr, stderr
    shown = status(state)
    assert shown["spool"]["depth"] == 1 and shown["spool"]["rejected"] == 0
    assert "401" in shown["last_error"] or "403" in shown["last_error"]


def test_retry_after_is_waited_for_within_a_bound_and_remembered_beyond_it(
    start_collector: StartCollector, tmp_path: Path
) -> None:
    """A real HTTP server on loopback stands in for a busy collector (the real one says
    Retry-After only when its database is down)."""
    collector = start_collector("sqlite")
    state = tmp_path / "state"
    collector.enrol(state)
    enrolment = json.loads((state / "enrolment.json").read_text())
    with scripted_server() as (url, script):
        (state / "enrolment.json").write_text(json.dumps({**enrolment, "server": url}))
        script.statuses = [(503, {"Retry-After": "2"})]
        started = time.monotonic()
        code, stdout, stderr = send(state)
        assert code == 0 and " accepted" in stdout, stderr
        assert time.monotonic() - started >= 2.0
        reports = [r for r in script.received if r[0] == "/api/v1/reports"]
        assert len(reports) == 2

        script.statuses = [(503, {"Retry-After": "600"})]
        started = time.monotonic()
        code, _, stderr = send(state)
        assert code == 0 and "again in 600 s" in stderr and "is spooled" in stderr, stderr
        assert time.monotonic() - started < 30, "a long Retry-After is not waited for in-process"
        assert status(state)["retry_not_before"] is not None

        before = len(script.received)
        code, _, stderr = send(state)
        assert code == 0 and "asked not to be sent anything before" in stderr, stderr
        assert len(script.received) == before, "the collector was contacted before it asked"
        assert status(state)["spool"]["depth"] == 2


def test_a_report_refused_for_good_is_counted_by_the_agent_and_on_the_dashboard(
    start_collector: StartCollector, tmp_path: Path
) -> None:
    """A spooled report the collector cannot take (here: one the schema refuses) is set aside
    by the agent, which still exits 0 for the new report it was asked to send; both sides count
    it, so the security team sees it as well as the person at the laptop."""
    collector = start_collector("sqlite")
    state = tmp_path / "state"
    device = collector.enrol(state)
    collector.stop()
    code, _, stderr = send(state)
    assert code == 0, stderr
    broken_id = spooled_id(stderr)
    [spooled] = (state / "spool").glob("[0-9]*-*.json")
    body = json.loads(spooled.read_text())
    body["host"]["hostname"] = 12345  # not a string: the collector's schema refuses it (422)
    spooled.write_text(json.dumps(body))
    collector.start()
    code, stdout, stderr = send(state)
    assert " accepted" in stdout
    assert code == 0, stderr
    assert broken_id in stderr and "refused" in stderr, stderr
    assert status(state)["spool"]["rejected"] == 1
    detail = collector.device(device.device_id)
    assert detail["reports_refused"] == 1 and detail["reports_received"] == 1
    assert detail["last_refusal"].startswith("schema: report does not match schema version 1")
    assert "$.host.hostname" in detail["last_refusal"]


def test_the_collectors_verdict_reaches_agent_status_and_the_self_check(
    start_collector: StartCollector, tmp_path: Path
) -> None:
    """The answer to a report carries the collector's state for the device (with its own rules:
    the egress address, the approval, the clock); the laptop shows what the team sees."""
    collector = start_collector("sqlite")
    state = tmp_path / "state"
    device = collector.enrol(state)
    assert run_agent(state, "status").stdout.count("nothing yet (no report accepted)") == 1
    code, _, stderr = send(state)
    assert code == 0, stderr
    shown = status(state)["collector_verdict"]
    detail = collector.device(device.device_id)
    assert shown["state"] == detail["state"]
    assert shown["failing_rules"] == detail["failing_rules"] and shown["at"]
    text = run_agent(state, "status").stdout
    assert f"collector says   {detail['state'].replace('_', '-')}" in text
    checked = run_agent(state, "--self-check", "--json")
    verdict = [c for c in json.loads(checked.stdout)["checks"] if c["name"] == "verdict"]
    assert len(verdict) == 1 and "the collector's verdict" in verdict[0]["detail"]
    assert verdict[0]["status"] == ("pass" if detail["state"] == "compliant" else "fail")
