"""The probe cache behind a report on a network change: what may be reused, what never is.

Real files in a real state directory and real probes' collection; the clock is the `now`
argument, so ages are exact.
"""

from __future__ import annotations

import json
import stat
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from agent.commands.machine import cache_basis
from agent.config import AgentConfig
from agent.delivery import probe_cache
from agent.facts.collect import collect_report
from agent.facts.context import Context
from agent.facts.probes import all_probes
from agent.facts.probes.base import Probe
from agent.policy import default_policy
from agent.report import ErrorInfo, ProbeResult, parse_timestamp, rfc3339
from agent.state_dir import PROBE_CACHE

NOW = parse_timestamp("2026-12-05T01:30:00Z").timestamp()
HOUR = 3600.0
BASIS = "basis-1"


def result(age_s: float, status: str = "ok") -> ProbeResult:
    failed = status != "ok"
    return ProbeResult(
        status=status,  # type: ignore[arg-type]
        duration_ms=812,
        data=None if failed else {"pending": 3},
        error=ErrorInfo(type="CommandTimeout", message="apt hung") if failed else None,
        collected_at=rfc3339(NOW - age_s),
    )


def test_a_recent_result_is_reused_with_its_own_time(tmp_path: Path) -> None:
    kept = {"patch_level": result(600), "credentials": result(900)}
    probe_cache.save(tmp_path, BASIS, kept)
    assert probe_cache.reusable(tmp_path, BASIS, HOUR, NOW) == kept


def test_a_result_older_than_the_limit_is_not_reused(tmp_path: Path) -> None:
    probe_cache.save(tmp_path, BASIS, {"patch_level": result(HOUR + 1), "credentials": result(5)})
    assert set(probe_cache.reusable(tmp_path, BASIS, HOUR, NOW)) == {"credentials"}


def test_a_result_from_the_future_is_not_reused(tmp_path: Path) -> None:
    """The clock was set back since: its age is unknown, so it is not evidence now."""
    probe_cache.save(tmp_path, BASIS, {"patch_level": result(-120)})
    assert probe_cache.reusable(tmp_path, BASIS, HOUR, NOW) == {}


def test_a_failed_result_is_kept_but_never_reused(tmp_path: Path) -> None:
    """The last collection's answer is kept as it was; a failure makes the probe run again."""
    probe_cache.save(tmp_path, BASIS, {"patch_level": result(5, "timeout")})
    body = json.loads((tmp_path / PROBE_CACHE).read_text())
    assert body["probes"]["patch_level"]["status"] == "timeout"
    assert probe_cache.reusable(tmp_path, BASIS, HOUR, NOW) == {}


def test_another_basis_is_not_reused(tmp_path: Path) -> None:
    """Made by another agent version, policy or scan settings."""
    probe_cache.save(tmp_path, BASIS, {"patch_level": result(5)})
    assert probe_cache.reusable(tmp_path, "basis-2", HOUR, NOW) == {}


def test_no_cache_means_nothing_reused(tmp_path: Path) -> None:
    assert probe_cache.reusable(tmp_path, BASIS, HOUR, NOW) == {}


@pytest.mark.parametrize(
    "content",
    [
        "",
        "{not json",
        "[]",
        '{"version": 2, "basis": "basis-1", "probes": {}}',
        '{"version": 1, "basis": "basis-1", "probes": []}',
        '{"version": 1, "basis": "basis-1", "probes": {"patch_level": {"status": "fine"}}}',
        '{"version": 1, "basis": "basis-1", "probes": {"patch_level": {"status": "ok", '
        '"duration_ms": 1, "data": {}, "error": null, "collected_at": "yesterday"}}}',
        '{"version": 1, "basis": "basis-1", "probes": {"patch_level": {"status": "ok", '
        '"duration_ms": 1, "data": {}, "error": {"kind": "x"}, "collected_at": '
        '"2026-12-05T01:29:00Z"}}}',
    ],
)
def test_a_damaged_cache_means_nothing_reused_and_says_so(
    tmp_path: Path, content: str, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / PROBE_CACHE).write_text(content)
    assert probe_cache.reusable(tmp_path, BASIS, HOUR, NOW) == {}
    assert "collecting every probe" in caplog.text


def test_only_the_slow_probes_that_do_not_depend_on_the_network_are_kept(tmp_path: Path) -> None:
    probe_cache.save(tmp_path, BASIS, {"network": result(1), "patch_level": result(1)})
    body = json.loads((tmp_path / PROBE_CACHE).read_text())
    assert set(body["probes"]) == {"patch_level"}
    assert stat.S_IMODE((tmp_path / PROBE_CACHE).stat().st_mode) == 0o600


def test_an_unwritable_cache_is_logged_not_raised(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "state").write_text("a file where the folder should be")
    probe_cache.save(tmp_path / "state", BASIS, {"patch_level": result(1)})
    assert "cannot keep the probe results" in caplog.text


@dataclass(frozen=True)
class Seen:
    runs: int


def counting_probe(name: str, runs: list[str]) -> Probe:
    def collect(ctx: Context) -> Seen:
        runs.append(name)
        return Seen(runs=len(runs))

    return Probe(name=name, summary=name, data_type=Seen, collect=collect, timeout_s=5)


def test_a_report_takes_the_reused_result_and_runs_the_rest() -> None:
    runs: list[str] = []
    probes = tuple(counting_probe(n, runs) for n in ("slow", "network", "credentials"))
    old = replace(result(0), collected_at=rfc3339(time.time() - 600))
    report = collect_report(Context(), probes, reused={"slow": old})
    assert runs == ["network", "credentials"]
    assert list(report.probes) == ["slow", "network", "credentials"]  # report order
    assert report.probes["slow"] == old
    # Marked: a reused result is older than the report; a fresh one is not.
    report_time = parse_timestamp(report.collected_at)
    assert parse_timestamp(str(report.probes["slow"].collected_at)) < report_time
    assert parse_timestamp(str(report.probes["network"].collected_at)) >= report_time


def test_every_fresh_result_says_when_it_was_collected_and_round_trips(tmp_path: Path) -> None:
    """A real collection: every probe's result carries collected_at, and what the cache keeps
    of it comes back equal."""
    report = collect_report(Context(), all_probes(None))
    stamps: dict[str, Any] = {n: p.collected_at for n, p in report.probes.items()}
    assert all(stamp is not None for stamp in stamps.values()), stamps
    probe_cache.save(tmp_path, BASIS, report.probes)
    now = parse_timestamp(report.collected_at).timestamp()
    back = probe_cache.reusable(tmp_path, BASIS, HOUR, now + 1)
    ok = {n for n in probe_cache.REUSABLE if report.probes[n].status == "ok"}
    assert {n: back[n] for n in ok} == {n: report.probes[n] for n in ok} and set(back) == ok


def test_the_basis_changes_with_the_policy_and_the_scan_settings(tmp_path: Path) -> None:
    """A result made for another organisation or with other limits is not reused."""
    config = AgentConfig(state_dir=tmp_path)
    policy = default_policy()
    basis = cache_basis(config, policy)
    assert cache_basis(config, default_policy()) == basis
    other_org = replace(policy, values={**policy.values, "organisation": {
        **policy.values["organisation"], "domains": ["elsewhere.example"]}})  # fmt: skip
    assert cache_basis(config, other_org) != basis
    assert cache_basis(replace(config, max_files=10), policy) != basis


@pytest.mark.parametrize(
    "content",
    [
        b"\xff\xfe not UTF-8 \x80",  # a torn or foreign write: UnicodeDecodeError, not OSError
        b'{"version": 1, "probes": ' + b"[" * 200_000,  # nesting past json's recursion
    ],
)
def test_a_corrupt_cache_never_stops_the_report(
    tmp_path: Path, content: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / PROBE_CACHE).write_bytes(content)
    assert probe_cache.reusable(tmp_path, BASIS, HOUR, NOW) == {}
    assert "collecting every probe" in caplog.text
