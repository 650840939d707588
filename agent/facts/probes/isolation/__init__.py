"""isolation: can this device reach what only the organisation's inside can? Tried, not inferred."""

from __future__ import annotations

import functools
import threading
import time

from agent.facts.context import Context
from agent.facts.probes.base import Probe
from agent.facts.probes.isolation.model import IsolationData
from agent.facts.probes.isolation.reach import Progress, try_target
from agent.facts.probes.isolation.settings import IsolationSettings

# A connect that started just before the budget ended gets this long to say how it ended.
GRACE_S = 0.05


def collect(ctx: Context, settings: IsolationSettings | None) -> IsolationData:
    """Every target in its own thread, all within one budget; only the targets named, never a
    scan. A target still resolving when the budget ends is unknown (no_answer); one still
    connecting did not answer in time (timeout)."""
    settings = settings or IsolationSettings()
    started = time.monotonic()
    deadline = started + settings.budget_s
    progress = [Progress(target=t, started=started) for t in settings.targets]
    # Daemon threads: a resolver stuck past the budget cannot hold the report back.
    workers = [
        threading.Thread(
            target=try_target,
            args=(ctx, p, settings, deadline),
            name=f"isolation-{index}",
            daemon=True,
        )
        for index, p in enumerate(progress)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(max(0.0, deadline + GRACE_S - time.monotonic()))
    now = time.monotonic()
    return IsolationData(
        targets=[p.result(now) for p in progress],
        budget_ms=int(settings.budget_s * 1000),
    )


def probe(settings: IsolationSettings | None) -> Probe:
    """The isolation probe, trying what `settings` names (None or no targets: nothing)."""
    return Probe(
        name="isolation",
        summary=(
            "Internal-only endpoints the policy names: resolved, reachable, how long it took "
            "and the interface the route left by."
        ),
        data_type=IsolationData,
        collect=functools.partial(collect, settings=settings),
        timeout_s=10.0,
        optional=True,
    )
