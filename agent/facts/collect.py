"""Builds one report: the host section and every probe's result."""

from __future__ import annotations

from agent import __version__
from agent.facts.context import Context
from agent.facts.host import collect_host
from agent.facts.probes.base import Probe
from agent.facts.probes.patch_level.model import OsIdentity
from agent.facts.runner import run_probes
from agent.report import (
    SCHEMA_VERSION,
    AgentInfo,
    ProbeResult,
    Report,
    new_report_id,
    rfc3339,
)


def collect_report(
    ctx: Context,
    probes: tuple[Probe, ...],
    device_id: str | None = None,
    dropped_reports: int = 0,
) -> Report:
    collected_at = rfc3339(ctx.now())
    results = run_probes(ctx, probes)
    return Report(
        schema_version=SCHEMA_VERSION,
        report_id=new_report_id(),
        device_id=device_id,
        agent=AgentInfo(version=__version__, dropped_reports=dropped_reports),
        collected_at=collected_at,
        host=collect_host(ctx, _os_identity(results)),
        probes=results,
    )


def _os_identity(results: dict[str, ProbeResult]) -> OsIdentity | None:
    """The OS identity patch_level read, if it read one."""
    patch_level = results.get("patch_level")
    if patch_level is None or patch_level.data is None:
        return None
    return OsIdentity(**patch_level.data["os"])
