"""One pass over the spool against a real loopback server: refusals counted, waits honoured."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.config import AgentConfig
from agent.delivery.last_exchange import (
    RETRY_AFTER_MAX_S,
    LastExchange,
    load_exchange,
    retry_wait_s,
)
from agent.delivery.send import flush, spool_for
from agent.delivery.transport import Collector
from agent.report import rfc3339
from agent.service.run import Schedule
from tests.unit.scripted import Script, scripted_server


@pytest.fixture
def server() -> Iterator[tuple[str, Script]]:
    with scripted_server() as running:
        yield running


def spooled(config: AgentConfig, count: int) -> list[str]:
    spool = spool_for(config)
    ids = [str(uuid.uuid4()) for _ in range(count)]
    for report_id in ids:
        spool.put({"report_id": report_id})
    return ids


def test_an_old_report_refused_for_good_does_not_stop_the_new_one(
    tmp_path: Path, server: tuple[str, Script]
) -> None:
    url, script = server
    config = AgentConfig(state_dir=tmp_path)
    old, new = spooled(config, 2)
    script.statuses = [422]
    result = flush(spool_for(config), Collector(url, secret="s"), config, time.time())
    assert result.sent_ids == (new,) and result.error is None
    assert result.rejected == ((old, "collector answered 422: scripted 422"),)
    counters = spool_for(config).counters()
    assert counters.rejected == 1 and counters.last_rejected is not None
    assert counters.last_rejected.report_id == old
    assert result.remaining == 0


def test_this_device_refused_keeps_everything(tmp_path: Path, server: tuple[str, Script]) -> None:
    url, script = server
    config = AgentConfig(state_dir=tmp_path)
    spooled(config, 2)
    script.statuses = [401]
    result = flush(spool_for(config), Collector(url, secret="s"), config, time.time())
    assert result.error is not None and result.error.status == 401
    assert result.rejected == () and result.remaining == 2
    assert spool_for(config).counters().rejected == 0


def test_a_long_retry_after_is_kept_and_honoured_by_the_next_send_and_the_service(
    tmp_path: Path, server: tuple[str, Script]
) -> None:
    url, script = server
    config = AgentConfig(state_dir=tmp_path)
    spooled(config, 1)
    script.statuses = [(503, {"Retry-After": "120"})]
    started = time.monotonic()
    result = flush(spool_for(config), Collector(url, secret="s"), config, time.time())
    assert time.monotonic() - started < 5, "beyond the cap: no waiting inside one send"
    assert result.error is not None and result.error.retry_after_s == 120
    assert result.not_before is not None and result.remaining == 1
    exchange = load_exchange(tmp_path)
    assert exchange.retry_not_before == result.not_before
    assert exchange.last_error_status == 503
    wait = retry_wait_s(exchange, time.time())
    assert 110 < wait <= 121
    # The next `agent send` spools but leaves the collector alone until then.
    spooled(config, 1)
    again = flush(spool_for(config), Collector(url, secret="s"), config, time.time())
    assert len(script.received) == 1
    assert again.sent_ids == () and again.error is None and again.remaining == 2
    assert again.not_before == result.not_before
    # The service's retry comes no sooner than the collector asked.
    schedule = Schedule(interval_s=900, jitter_s=0)
    schedule.flush_failed(1000.0, wait)
    assert schedule.next_retry >= 1000.0 + wait
    schedule = Schedule(interval_s=900, jitter_s=0)
    schedule.flush_failed(1000.0)
    assert schedule.next_retry < 1000.0 + 30


def test_a_success_clears_the_wait(tmp_path: Path, server: tuple[str, Script]) -> None:
    url, _ = server
    config = AgentConfig(state_dir=tmp_path)
    spooled(config, 1)
    past = LastExchange(retry_not_before=rfc3339(time.time() - 5))
    (tmp_path / "status.json").write_text(json.dumps(past.__dict__))
    result = flush(spool_for(config), Collector(url, secret="s"), config, time.time())
    assert len(result.sent_ids) == 1
    assert load_exchange(tmp_path).retry_not_before is None


def test_a_wait_longer_than_any_recorded_means_the_clock_went_back() -> None:
    now = time.time()
    far = LastExchange(retry_not_before=rfc3339(now + RETRY_AFTER_MAX_S + 600))
    assert retry_wait_s(far, now) == 0.0
    near = LastExchange(retry_not_before=rfc3339(now + 60))
    assert 55 < retry_wait_s(near, now) <= 60
    assert retry_wait_s(LastExchange(retry_not_before="garbage"), now) == 0.0
