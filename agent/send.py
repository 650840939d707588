"""`agent send`: collect one report now and post it to the collector."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from agent.collect import collect_report
from agent.config import AgentConfig
from agent.context import Context
from agent.enrol import collector_for, load_enrolment, refresh_policy
from agent.transport import TransportError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SendResult:
    report_id: str
    answer: dict[str, Any]


def send_once(ctx: Context, config: AgentConfig) -> SendResult:
    enrolment = load_enrolment(config.state_dir)
    collector = collector_for(enrolment)
    report = collect_report(ctx, device_id=enrolment.device_id).to_dict()
    answer = collector.send_report(report)
    try:
        refresh_policy(collector, config)
    except TransportError as exc:  # the report is in; a stale policy cache is only a warning
        log.warning("policy refresh failed: %s", exc)
    return SendResult(report_id=str(report["report_id"]), answer=answer)
