"""The device page's "reused from an earlier collection" marker compares times, not strings:
the report contract allows fractional seconds, and "…:00.500Z" sorts before "…:00Z" as text."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.unit.test_dashboard import Env, add_report, hostile_report, log_in, make_env, register


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    yield from make_env(tmp_path)


def test_a_probe_run_after_the_collection_started_is_not_reused(env: Env) -> None:
    device_id = register(env, "kiosk-1")
    report = hostile_report()
    report["collected_at"] = "2026-12-05T01:30:00Z"
    report["probes"]["network"]["collected_at"] = "2026-12-05T01:30:00.500Z"  # half a second on
    report["probes"]["patch_level"]["collected_at"] = "2026-12-05T01:29:59.900Z"  # earlier
    add_report(env, device_id, report)
    log_in(env.client)
    page = env.client.get(f"/devices/{device_id}").text
    assert "2026-12-05T01:29:59.900Z (reused from an earlier collection)" in page
    assert page.count("reused from an earlier collection") == 1
