"""Sending: every report goes to the spool first, then the spool is flushed in sequence."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from agent.config import AgentConfig
from agent.delivery import probe_cache
from agent.delivery.enrolment import Enrolment, load_enrolment
from agent.delivery.last_exchange import (
    RETRY_AFTER_MAX_S,
    load_exchange,
    retry_wait_s,
    save_exchange,
)
from agent.delivery.local_error import clear_local_error, record_local_error
from agent.delivery.policy_cache import refresh_policy
from agent.delivery.secret_store import load_secret
from agent.delivery.spool import Spool, SpoolTrimError
from agent.delivery.transport import Collector, TransportError
from agent.facts.collect import collect_report
from agent.facts.context import Context
from agent.facts.probes.base import Probe
from agent.report import ProbeResult, rfc3339
from agent.state_dir import SPOOL, StateWriteError, remove_stale_temp_files

log = logging.getLogger(__name__)


class NotSpooled(Exception):
    """The new report could not be kept: the state directory cannot be written."""

    def __init__(self, cause: StateWriteError) -> None:
        super().__init__(str(cause))
        self.cause = cause


class NotAsked(Exception):
    """Started ahead of a report that the service then did not ask for (the network settled
    back to where it was): nothing was collected or sent."""


@dataclass(frozen=True)
class FlushResult:
    """What one pass over the spool achieved.

    `error` is why the pass stopped with reports left (unreachable, busy, this device refused);
    `rejected` the (report id, reason) of reports refused for good and set aside;
    `not_before` set when the collector asked not to be sent anything before that time;
    `local_error` a state file that could not be written (the reports sent are still sent).
    """

    sent_ids: tuple[str, ...]
    rejected: tuple[tuple[str, str], ...]
    remaining: int
    last_answer: dict[str, Any] | None
    error: TransportError | None
    not_before: str | None = None
    local_error: StateWriteError | None = None

    @property
    def sent(self) -> int:
        return len(self.sent_ids)


def collector_for(enrolment: Enrolment) -> Collector:
    """A client for the collector this device enrolled with, carrying its secret."""
    secret = load_secret(enrolment.secret_store, enrolment.device_id)
    return Collector(enrolment.server, ca_file=enrolment.ca_file, secret=secret)


def spool_for(config: AgentConfig, prepare: bool = True) -> Spool:
    folder = config.state_dir / SPOOL
    return Spool(folder, config.spool_max_reports, config.spool_max_bytes, prepare)


def note_local_error(config: AgentConfig, error: StateWriteError) -> None:
    """Keep a failed write for `agent status`; where that cannot be kept either (the same full
    disk), status finds the full disk by itself."""
    unrecorded = record_local_error(config.state_dir, str(error), time.time())
    if unrecorded is not None:
        log.warning("cannot record the error for agent status either: %s", unrecorded)


def _verdict(answer: dict[str, Any], now: float) -> dict[str, Any]:
    """The collector's state for this device from its answer to a report, for the status file
    (nothing when the answer does not carry one)."""
    state, failing = answer.get("state"), answer.get("failing_rules")
    if not isinstance(state, str):
        return {}
    rules = [str(r) for r in failing] if isinstance(failing, list) else []
    notes = answer.get("rule_notes")
    return {
        "collector_state": state,
        "collector_failing": rules,
        "collector_state_at": rfc3339(now),
        "collector_notes": {
            str(rule_id): {str(k): str(v) for k, v in note.items()}
            for rule_id, note in (notes.items() if isinstance(notes, dict) else ())
            if isinstance(note, dict)
        },
    }


def flush(spool: Spool, collector: Collector, config: AgentConfig, now: float) -> FlushResult:
    """Send spooled reports in sequence; stop at the first fault that is not the report's."""
    exchange = load_exchange(config.state_dir)
    if retry_wait_s(exchange, time.time()) > 0:  # the collector asked for quiet until then
        return FlushResult((), (), spool.depth, None, None, exchange.retry_not_before)
    sent: list[str] = []
    rejected: list[tuple[str, str]] = []
    answer: dict[str, Any] | None = None
    stop: TransportError | None = None  # why the pass ended with reports left
    failure: TransportError | None = None  # the last error, for status.json
    local: StateWriteError | None = None
    try:
        for item in spool.pending():
            try:
                answer = collector.send_report(item.report)
            except TransportError as exc:
                failure = exc
                if exc.permanent and exc.status not in (401, 403):
                    # This report can never be accepted: set aside and counted, not retried.
                    rejected.append((str(item.report["report_id"]), str(exc)))
                    spool.reject(item, str(exc), time.time())
                    continue
                stop = exc  # unreachable, busy, or this device's secret refused: keep and stop
                break
            sent.append(str(item.report["report_id"]))
            exchange = replace(exchange, last_success_at=rfc3339(now), **_verdict(answer, now))
            spool.done(item)
    except StateWriteError as exc:  # a rename or counter in the spool failed: stop here
        local = exc
    if failure is not None:
        exchange = replace(
            exchange,
            last_error=str(failure),
            last_error_at=rfc3339(now),
            last_error_status=failure.status,
        )
    elif sent:
        exchange = replace(exchange, last_error=None, last_error_at=None, last_error_status=None)
    not_before = None
    if stop is not None and stop.retry_after_s is not None:
        not_before = rfc3339(time.time() + min(stop.retry_after_s, RETRY_AFTER_MAX_S))
    exchange = replace(exchange, retry_not_before=not_before)
    try:
        save_exchange(config.state_dir, exchange)
        if local is None:
            clear_local_error(config.state_dir)
    except StateWriteError as exc:
        local = local or exc
    if sent:
        try:
            refresh_policy(collector, config)
        except TransportError as exc:  # reports are in; a stale policy cache is only a warning
            log.warning("policy refresh failed: %s", exc)
        except StateWriteError as exc:
            local = local or exc
    if local is not None:
        note_local_error(config, local)
    return FlushResult(tuple(sent), tuple(rejected), spool.depth, answer, stop, not_before, local)


def send_once(
    ctx: Context,
    probes: tuple[Probe, ...],
    config: AgentConfig,
    cache_basis: str,
    reuse_within_s: float | None = None,
    ready: Callable[[], bool] = lambda: True,
) -> tuple[str, FlushResult]:
    """Collect one report, spool it, flush the spool; returns the new report's id.

    With `reuse_within_s` the slow probes that do not depend on the network take their
    results from the last collection when it is at most that old (probe_cache.py); every
    report keeps its own slow results there for the next. `ready` is asked once everything
    but the collection is prepared; False raises NotAsked.
    Raises NotSpooled when the report cannot be kept (the error is recorded for status).
    """
    enrolment = load_enrolment(config.state_dir)
    collector = collector_for(enrolment)
    remove_stale_temp_files(config.state_dir)
    try:
        spool = spool_for(config)
    except StateWriteError as exc:
        raise _not_spooled(config, exc) from exc
    if not ready():
        raise NotAsked
    reused: dict[str, ProbeResult] = {}
    if reuse_within_s is not None:
        reused = probe_cache.reusable(config.state_dir, cache_basis, reuse_within_s, ctx.now())
    report = collect_report(
        ctx, probes, device_id=enrolment.device_id, dropped_reports=spool.dropped, reused=reused
    )
    kept_but: StateWriteError | None = None
    try:
        spool.put(report.to_dict())
        clear_local_error(config.state_dir)
    except SpoolTrimError as exc:  # the report is kept; the oldest could not be dropped
        kept_but = exc
    except StateWriteError as exc:
        raise _not_spooled(config, exc) from exc
    result = flush(spool, collector, config, ctx.now())
    if kept_but is not None and result.local_error is None:
        note_local_error(config, kept_but)
        result = replace(result, local_error=kept_but)
    if any(name not in reused for name in probe_cache.REUSABLE):  # after the send: off its path
        probe_cache.save(config.state_dir, cache_basis, report.probes)
    return report.report_id, result


def _not_spooled(config: AgentConfig, error: StateWriteError) -> NotSpooled:
    note_local_error(config, error)
    return NotSpooled(error)


def flush_spool(config: AgentConfig) -> FlushResult:
    """Send what waits in the spool, collecting nothing new (the service's retries)."""
    collector = collector_for(load_enrolment(config.state_dir))
    return flush(spool_for(config), collector, config, time.time())
