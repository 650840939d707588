"""Builds one report: the host section and every probe's result."""

from __future__ import annotations

from agent import __version__
from agent.context import Context
from agent.host import collect_host
from agent.probes import PROBES
from agent.probes.base import Probe
from agent.report import SCHEMA_VERSION, AgentInfo, Report, new_report_id, rfc3339
from agent.runner import run_probes


def collect_report(
    ctx: Context,
    device_id: str | None = None,
    probes: tuple[Probe, ...] = PROBES,
    dropped_reports: int = 0,
) -> Report:
    collected_at = rfc3339(ctx.now())
    return Report(
        schema_version=SCHEMA_VERSION,
        report_id=new_report_id(),
        device_id=device_id,
        agent=AgentInfo(version=__version__, dropped_reports=dropped_reports),
        collected_at=collected_at,
        host=collect_host(ctx),
        probes=run_probes(ctx, probes),
    )
