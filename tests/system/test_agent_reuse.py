"""A report on a network change, end to end: the real `agent send --reuse-within` against a
real collector takes the slow probes from the last collection, says so, and is accepted."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from agent.report import parse_timestamp
from agent.state_dir import PROBE_CACHE
from tests.system.conftest import AGENT, Collector, StartCollector, clean_env, run_agent

pytestmark = pytest.mark.system


def stored(collector: Collector, report_id: str) -> dict[str, Any]:
    collector.wait_for_report(report_id)
    body = collector.scalar("SELECT body FROM reports WHERE id = :r", r=report_id)
    return body if isinstance(body, dict) else json.loads(body)


def sent(state: Path, *options: str) -> str:
    done = run_agent(state, "send", *options)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()[1]  # "report <id> accepted: ..."


@pytest.fixture
def collector(start_collector: StartCollector) -> Collector:
    return start_collector("sqlite")


def test_a_network_change_report_reuses_the_slow_probes_and_says_when_they_ran(
    collector: Collector, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    collector.enrol(state)
    full = stored(collector, sent(state))
    time.sleep(1.1)  # collected_at has whole seconds: the reused result must show as older
    quick = stored(collector, sent(state, "--reuse-within", "3600"))
    for name in ("patch_level", "credentials"):
        assert quick["probes"][name] == full["probes"][name], name  # the very same result
    for name in ("network", "accounts", "device_security", "isolation"):
        ran = parse_timestamp(quick["probes"][name]["collected_at"])
        assert ran >= parse_timestamp(quick["collected_at"]), name  # fresh
    reused = parse_timestamp(quick["probes"]["patch_level"]["collected_at"])
    assert reused < parse_timestamp(quick["collected_at"])
    # The next scheduled report is whole again: everything fresh.
    whole = stored(collector, sent(state))
    assert whole["probes"]["patch_level"]["collected_at"] >= whole["collected_at"]


def test_without_a_cache_a_network_change_report_collects_everything(
    collector: Collector, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    collector.enrol(state)
    sent(state)
    (state / PROBE_CACHE).write_text("{damaged")
    quick = stored(collector, sent(state, "--reuse-within", "3600"))
    assert all(p["collected_at"] >= quick["collected_at"] for p in quick["probes"].values())
    assert json.loads((state / PROBE_CACHE).read_text())["version"] == 1  # written anew


def test_a_report_started_early_and_not_asked_for_sends_nothing(
    collector: Collector, tmp_path: Path
) -> None:
    """The service closes the pipe when the network settled back: no report, exit 0."""
    state = tmp_path / "state"
    device = collector.enrol(state)
    argv = [AGENT, "--state-dir", str(state), "send", "--reuse-within", "60", "--after-go"]
    done = subprocess.run(
        argv, input="", capture_output=True, text=True, timeout=120, env=clean_env(), check=False
    )
    assert done.returncode == 0 and done.stdout == "", done.stderr
    count = collector.scalar(
        "SELECT count(*) FROM reports WHERE device_id = :d", d=device.device_id
    )
    assert count == 0
    told = subprocess.run(
        argv,
        input="go\n",
        capture_output=True,
        text=True,
        timeout=120,
        env=clean_env(),
        check=False,
    )
    assert told.returncode == 0 and "accepted" in told.stdout, told.stderr
