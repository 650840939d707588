"""applications: installed browsers and the TikTok desktop or web app, with their versions."""

from __future__ import annotations

from agent.facts.context import Context
from agent.facts.probes.applications import darwin, linux, windows
from agent.facts.probes.applications.model import ApplicationsData
from agent.facts.probes.applications.readers import ApplicationsReaders
from agent.facts.probes.base import Probe, Reading, for_os

# Typed as the readers so that mypy checks each OS module has all of them, alike.
LINUX: ApplicationsReaders = linux
DARWIN: ApplicationsReaders = darwin
WINDOWS: ApplicationsReaders = windows


def collect(ctx: Context) -> ApplicationsData:
    readers = for_os(ctx, linux=LINUX, darwin=DARWIN, windows=WINDOWS)
    reading = Reading(ctx)
    browsers = reading.attempt("browsers", lambda: readers.read_browsers(reading))
    tiktok = reading.attempt("tiktok", lambda: readers.read_tiktok(reading))
    return ApplicationsData(browsers=browsers, tiktok=tiktok, gaps=reading.gaps)


PROBE = Probe(
    name="applications",
    summary="Installed browsers and the TikTok desktop or web app, with their versions.",
    data_type=ApplicationsData,
    collect=collect,
    timeout_s=20.0,
    optional=True,  # added after schema v1 shipped: older agents' reports lack it
)
