"""credentials: stray organisation credentials in known stores and files; never the secret."""

from __future__ import annotations

import functools

from agent.facts.context import Context, ProbeUnsupported
from agent.facts.probes.base import Probe
from agent.facts.probes.credentials import stores
from agent.facts.probes.credentials.homes import list_homes
from agent.facts.probes.credentials.model import CredentialsData
from agent.facts.probes.credentials.scan import ScanState
from agent.facts.probes.credentials.settings import ScanSettings


def collect(ctx: Context, settings: ScanSettings | None) -> CredentialsData:
    if settings is None:
        raise ProbeUnsupported("no scan settings: the organisation to look for is unknown")
    finders = stores.finders_for(ctx)
    if not finders:
        raise ProbeUnsupported(f"the credential scan has no stores for {ctx.os_name} yet")
    state = ScanState(settings=settings, homes=list_homes(ctx, settings.homes))
    for finder in finders:
        if state.out_of_time():
            state.not_read(finder.__module__.rsplit(".", 1)[-1], "-", "time budget spent")
            continue
        finder(ctx, state)
    return CredentialsData(
        findings=sorted(state.findings, key=lambda f: (f.store, f.location, f.identity or "")),
        not_inspected=state.not_inspected,
        homes=[state.display(h.path) for h in state.homes],
        files_scanned=state.files_scanned,
        bytes_scanned=state.bytes_scanned,
        skipped=dict(sorted(state.skipped.items())),
        complete=not state.budget_exhausted and not state.not_inspected,
    )


def probe(settings: ScanSettings | None) -> Probe:
    """The credentials probe, looking for what `settings` names (None: it reports unsupported)."""
    return Probe(
        name="credentials",
        summary="Stray organisation credentials: where they are and what kind, never the secret.",
        data_type=CredentialsData,
        collect=functools.partial(collect, settings=settings),
        timeout_s=120.0,
    )
