"""Builds one report: the host section and every probe's result, fresh or given."""

from __future__ import annotations

from collections.abc import Mapping

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
    reused: Mapping[str, ProbeResult] | None = None,
) -> Report:
    """Run every probe, except those `reused` holds an earlier result of (each result says
    when it was collected, so a reused one shows as older than the report)."""
    collected_at = rfc3339(ctx.now())
    kept = dict(reused or {})
    fresh = run_probes(ctx, tuple(p for p in probes if p.name not in kept))
    results = {p.name: kept.get(p.name) or fresh[p.name] for p in probes}  # report order
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
