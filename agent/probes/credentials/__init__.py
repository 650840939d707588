"""credentials: stray organisation credentials (not built yet: reports `unsupported`)."""

from __future__ import annotations

from agent.context import Context, ProbeUnsupported
from agent.probes.base import Probe
from agent.probes.credentials.model import CredentialsData


def collect(ctx: Context) -> CredentialsData:
    raise ProbeUnsupported("the credential scan is not built yet")


PROBE = Probe(
    name="credentials",
    summary="Stray organisation credentials: where they are and what kind, never the secret.",
    data_type=CredentialsData,
    collect=collect,
    timeout_s=120.0,
)
