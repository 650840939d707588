"""The collector's Prometheus metrics, with prometheus_client: counted in every worker process
and exposed as one figure for the whole collector (multiprocess mode under --workers N)."""

from __future__ import annotations

import os
from collections.abc import Iterator

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

# Set by `collector serve --workers N` before the workers start: each writes its counts into
# files there, and whichever worker is scraped sums them all.
MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
OUTCOMES = ("accepted", "duplicate", "rejected")

# A `_created` series per counter tells Prometheus nothing it uses here. (prometheus_client
# leaves these two functions unannotated.)
disable_created_metrics()  # type: ignore[no-untyped-call]


class Metrics:
    """One collector process's counters (a registry of its own, so two apps in one process,
    as in the tests, never add to each other's)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.reports = Counter(
            "outpost_reports", "Reports received, by outcome.", ["outcome"], registry=self.registry
        )
        for outcome in OUTCOMES:
            self.reports.labels(outcome)  # every outcome shown, from zero
        self.batches = Counter(
            "outpost_ingest_batches",
            "Transactions that stored reports (group commit).",
            registry=self.registry,
        )
        self.batched_reports = Counter(
            "outpost_ingest_batched_reports",
            "Reports those transactions carried.",
            registry=self.registry,
        )
        self.enrolments_rejected = Counter(
            "outpost_enrolments_rejected",
            "Enrolments refused (unknown, used or expired token; revoked device).",
            registry=self.registry,
        )

    def count_report(self, outcome: str) -> None:
        self.reports.labels(outcome).inc()

    def count_batch(self, reports: int) -> None:
        self.batches.inc()
        self.batched_reports.inc(reports)

    def exposition(self, devices_by_state: dict[str, int]) -> tuple[bytes, str]:
        """The text format: the counters (summed over every worker in multiprocess mode) and
        the devices by state, read from the database at this scrape."""
        if os.environ.get(MULTIPROCESS_DIR):
            counted = CollectorRegistry()
            multiprocess.MultiProcessCollector(counted)  # type: ignore[no-untyped-call]
        else:
            counted = self.registry
        devices = CollectorRegistry()
        devices.register(_Devices(devices_by_state))
        return generate_latest(counted) + generate_latest(devices), CONTENT_TYPE_LATEST


class _Devices(Collector):
    """Registered devices by state: a database figure, the same from every worker."""

    def __init__(self, counts: dict[str, int]) -> None:
        self.counts = counts

    def collect(self) -> Iterator[Metric]:
        gauge = GaugeMetricFamily(
            "outpost_devices", "Registered devices by compliance state.", labels=["state"]
        )
        for state, count in self.counts.items():
            gauge.add_metric([state], count)
        yield gauge
