"""/metrics of a real `collector serve --workers 2`: every scrape, whichever worker answers it,
counts the reports all the workers took (prometheus_client's multiprocess mode)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.system.conftest import StartCollector, run_agent

pytestmark = pytest.mark.system
REPORTS = 12
SCRAPES = 8


def samples(url: str) -> dict[str, float]:
    text = requests.get(url + "/metrics", timeout=10).text
    found = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.rpartition(" ")
            found[key] = float(value)
    return found


def test_every_scrape_counts_every_workers_reports(
    start_collector: StartCollector, tmp_path: Path, linux_report: dict[str, Any]
) -> None:
    collector = start_collector("sqlite", "--workers", "2")
    device = collector.enrol(tmp_path / "agent")
    assert run_agent(device.state_dir, "send").returncode == 0  # its hardware id, for reports
    host = dict(linux_report["host"])
    host["hardware_id_hash"] = collector.device(device.device_id)["facts"]["host"][
        "hardware_id_hash"
    ]
    for _ in range(REPORTS):
        report = {**linux_report, "report_id": str(uuid.uuid4()), "host": host}
        collector.send(device.auth, {**report, "device_id": device.device_id})
    accepted = 'outpost_reports_total{outcome="accepted"}'
    seen = [samples(collector.url)[accepted] for _ in range(SCRAPES)]
    # Each of the two workers took some of the reports; every scrape shows them all.
    assert seen == [REPORTS + 1] * SCRAPES, seen
    assert samples(collector.url)['outpost_devices{state="awaiting_enrolment"}'] == 0
