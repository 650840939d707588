"""The probe catalogue: an explicit tuple, in report order; no folder scanning."""

from __future__ import annotations

from agent.probes import accounts, credentials, device_security, network, patch_level
from agent.probes.base import Probe

PROBES: tuple[Probe, ...] = (
    patch_level.PROBE,
    network.PROBE,
    accounts.PROBE,
    device_security.PROBE,
    credentials.PROBE,
)
