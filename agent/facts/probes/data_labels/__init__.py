"""data_labels: Office files and PDFs in the user homes classified above PUBLIC; never content."""

from __future__ import annotations

import functools

from agent.facts.context import Context, ProbeUnsupported
from agent.facts.probes.base import Probe
from agent.facts.probes.credentials.homes import list_homes
from agent.facts.probes.data_labels.model import DataLabelsData, FileNotInspected
from agent.facts.probes.data_labels.scan import NAMED, DataScan, scan_homes
from agent.facts.probes.data_labels.settings import DataSettings


def collect(ctx: Context, settings: DataSettings | None) -> DataLabelsData:
    if settings is None:
        raise ProbeUnsupported("no classification scheme: the policy's [data] is unknown")
    scan = DataScan(ctx=ctx, settings=settings, homes=list_homes(ctx, settings.homes))
    scan_homes(scan)
    unreadable = scan.skipped["unreadable"]
    if unreadable > NAMED:
        more = FileNotInspected(location="-", reason=f"{unreadable - NAMED} more not read")
        scan.not_inspected.append(more)
    return DataLabelsData(
        findings=sorted(scan.findings, key=lambda f: (f.location, f.where, f.label)),
        not_inspected=scan.not_inspected,
        homes=[scan.display(h.path) for h in scan.homes],
        files_inspected=scan.files_inspected,
        bytes_read=scan.bytes_read,
        skipped=dict(sorted(scan.skipped.items())),
        complete=scan.stopped is None and not scan.not_inspected,
    )


def probe(settings: DataSettings | None) -> Probe:
    """The data_labels probe, judging by `settings` (None: it reports unsupported)."""
    return Probe(
        name="data_labels",
        summary="Files classified above PUBLIC: where, which label or marking, never content.",
        data_type=DataLabelsData,
        collect=functools.partial(collect, settings=settings),
        timeout_s=120.0,
        optional=True,
    )
