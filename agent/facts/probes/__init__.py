"""The probe catalogue: an explicit tuple, in report order; no folder scanning."""

from __future__ import annotations

from agent.facts.probes import (
    accounts,
    applications,
    credentials,
    data_labels,
    device_security,
    isolation,
    network,
    patch_level,
)
from agent.facts.probes.base import Probe
from agent.facts.probes.credentials.settings import ScanSettings
from agent.facts.probes.data_labels.settings import DataSettings
from agent.facts.probes.isolation.settings import IsolationSettings


def all_probes(
    scan: ScanSettings | None,
    isolation_settings: IsolationSettings | None = None,
    data_settings: DataSettings | None = None,
) -> tuple[Probe, ...]:
    """Every probe in report order; the credential scan looks for what `scan` names, the
    isolation probe tries the internal-only targets `isolation_settings` names, the
    data-classification scan judges by `data_settings`."""
    return (
        patch_level.PROBE,
        applications.PROBE,
        network.PROBE,
        isolation.probe(isolation_settings),
        accounts.PROBE,
        device_security.PROBE,
        credentials.probe(scan),
        data_labels.probe(data_settings),
    )


# The probes' names and shapes, for the catalogue and the schema (no scan settings needed).
PROBES: tuple[Probe, ...] = all_probes(None)
