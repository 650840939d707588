"""Sending: every report goes to the spool first, then the spool is flushed oldest first."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from typing import Any

from agent.config import AgentConfig
from agent.delivery.enrolment import Enrolment, load_enrolment
from agent.delivery.last_exchange import load_exchange, save_exchange
from agent.delivery.policy_cache import refresh_policy
from agent.delivery.secret_store import load_secret
from agent.delivery.spool import Spool
from agent.delivery.transport import Collector, TransportError
from agent.facts.collect import collect_report
from agent.facts.context import Context
from agent.facts.probes.base import Probe
from agent.report import rfc3339
from agent.state_dir import SPOOL

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FlushResult:
    """What one pass over the spool achieved."""

    sent: int
    rejected: int
    remaining: int
    last_answer: dict[str, Any] | None
    error: TransportError | None


def collector_for(enrolment: Enrolment) -> Collector:
    """A client for the collector this device enrolled with, carrying its secret."""
    secret = load_secret(enrolment.secret_store, enrolment.device_id)
    return Collector(enrolment.server, ca_file=enrolment.ca_file, secret=secret)


def spool_for(config: AgentConfig) -> Spool:
    return Spool(config.state_dir / SPOOL)


def flush(spool: Spool, collector: Collector, config: AgentConfig, now: float) -> FlushResult:
    """Send spooled reports oldest first; stop at the first fault that is not the report's."""
    sent = rejected = 0
    answer: dict[str, Any] | None = None
    error: TransportError | None = None
    exchange = load_exchange(config.state_dir)
    for item in spool.pending():
        try:
            answer = collector.send_report(item.report)
        except TransportError as exc:
            if exc.permanent and exc.status not in (401, 403):
                spool.reject(item, str(exc))  # this report can never be accepted: set aside
                rejected += 1
                error = exc
                continue
            error = exc  # unreachable, 5xx, or this device's secret refused: keep and stop
            break
        spool.done(item)
        sent += 1
        exchange = replace(exchange, last_success_at=rfc3339(now))
    if error is not None:
        exchange = replace(
            exchange,
            last_error=str(error),
            last_error_at=rfc3339(now),
            last_error_status=error.status,
        )
    elif sent:
        exchange = replace(exchange, last_error=None, last_error_at=None, last_error_status=None)
    save_exchange(config.state_dir, exchange)
    if sent:
        try:
            refresh_policy(collector, config)
        except TransportError as exc:  # reports are in; a stale policy cache is only a warning
            log.warning("policy refresh failed: %s", exc)
    return FlushResult(sent, rejected, spool.depth, answer, error)


def send_once(
    ctx: Context, probes: tuple[Probe, ...], config: AgentConfig
) -> tuple[str, FlushResult]:
    """Collect one report, spool it, flush the spool; returns the new report's id."""
    enrolment = load_enrolment(config.state_dir)
    collector = collector_for(enrolment)
    spool = spool_for(config)
    report = collect_report(
        ctx, probes, device_id=enrolment.device_id, dropped_reports=spool.dropped
    )
    spool.put(report.to_dict())
    return report.report_id, flush(spool, collector, config, ctx.now())


def flush_spool(config: AgentConfig) -> FlushResult:
    """Send what waits in the spool, collecting nothing new (the service's retries)."""
    collector = collector_for(load_enrolment(config.state_dir))
    return flush(spool_for(config), collector, config, time.time())
