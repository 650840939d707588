"""Runs probes one at a time within their time limits; the only place that catches Exception."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import asdict, dataclass
from typing import Any

from agent.facts.context import (
    AccessDenied,
    CommandTimeout,
    Context,
    DeadlineExceeded,
    ProbeUnsupported,
)
from agent.facts.probes.base import Probe
from agent.report import ErrorInfo, ProbeResult, ProbeStatus, rfc3339

log = logging.getLogger(__name__)


@dataclass
class _Outcome:
    data: Any = None
    error: BaseException | None = None


def _classify(exc: BaseException) -> ProbeStatus:
    if isinstance(exc, ProbeUnsupported):
        return "unsupported"
    if isinstance(exc, AccessDenied | PermissionError):
        return "denied"
    if isinstance(exc, DeadlineExceeded | CommandTimeout):
        return "timeout"
    return "error"


def run_probe(ctx: Context, probe: Probe) -> ProbeResult:
    """Run one probe in a worker thread; a hang, a crash or a refusal becomes a status."""
    started = time.monotonic()
    # The agent's own clock, like the monotonic one above: when this run happened is not a
    # fact read from the machine (recordings of a machine hold no such reading).
    collected_at = rfc3339(time.time())
    deadline = started + probe.timeout_s
    outcome = _Outcome()

    def work() -> None:
        try:
            outcome.data = probe.collect(ctx.with_deadline(deadline))
        except Exception as exc:  # noqa: BLE001 - the runner turns every failure into a status
            outcome.error = exc

    # A daemon thread: a probe stuck in a system call cannot keep the agent from answering.
    worker = threading.Thread(target=work, name=f"probe-{probe.name}", daemon=True)
    worker.start()
    worker.join(probe.timeout_s + 0.5)
    duration_ms = int((time.monotonic() - started) * 1000)
    if worker.is_alive():
        log.warning("probe %s timed out after %.0f s", probe.name, probe.timeout_s)
        message = f"{probe.name} did not finish within {probe.timeout_s:.0f} s"
        return _failed("timeout", duration_ms, "DeadlineExceeded", message, collected_at)
    if outcome.error is not None:
        status = _classify(outcome.error)
        level = logging.INFO if status == "unsupported" else logging.WARNING
        log.log(level, "probe %s: %s: %s", probe.name, status, outcome.error)
        kind = type(outcome.error).__name__
        return _failed(status, duration_ms, kind, str(outcome.error), collected_at)
    data = asdict(outcome.data)
    return ProbeResult(
        status="ok", duration_ms=duration_ms, data=data, error=None, collected_at=collected_at
    )


def _failed(
    status: ProbeStatus, duration_ms: int, kind: str, message: str, collected_at: str
) -> ProbeResult:
    return ProbeResult(
        status=status,
        duration_ms=duration_ms,
        data=None,
        error=ErrorInfo(type=kind, message=message or kind),
        collected_at=collected_at,
    )


def run_probes(ctx: Context, probes: tuple[Probe, ...]) -> dict[str, ProbeResult]:
    return {probe.name: run_probe(ctx, probe) for probe in probes}
