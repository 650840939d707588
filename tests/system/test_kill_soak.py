"""Kill soak: real agents report while the collector is SIGKILLed and restarted; 0 lost, 0 doubled.

Bounded for every run: per backend 6 agents, at least 2 reports each and at least 3 kills (one
every 1.5-3 s). The long form is `bench/soak.py --agents 50 --minutes 10` (docs/security.md has
a run's figures).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.system.conftest import BACKENDS, StartCollector
from tests.system.soak import run_soak

pytestmark = pytest.mark.system

AGENTS = 6
REPORTS_PER_AGENT = 2
MIN_KILLS = 3


@pytest.mark.parametrize("backend", BACKENDS)
def test_collector_killed_again_and_again_loses_and_doubles_nothing(
    backend: str, start_collector: StartCollector, tmp_path: Path
) -> None:
    collector = start_collector(backend)  # its own: it is killed, never the shared one
    result = run_soak(
        collector,
        tmp_path,
        agents=AGENTS,
        reports_per_agent=REPORTS_PER_AGENT,
        every_s=(1.5, 3.0),
        down_s=(0.0, 1.5),
        concurrency=AGENTS,
        min_kills=MIN_KILLS,
        seed=7,
    )
    print(result.summary())
    assert result.failures == []
    assert len(result.made) >= AGENTS * REPORTS_PER_AGENT, result.summary()
    assert result.kills >= MIN_KILLS, result.summary()
    assert result.lost == set(), result.summary()
    assert result.duplicated == 0, result.summary()
    assert result.unknown == set(), result.summary()
    assert result.counter_mismatch == [], result.summary()
    assert result.rejected == 0, result.summary()
    assert result.stored == len(result.made)
