"""What the isolation probe is asked to try: the policy's internal-only targets and its budget."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

# Goal: under 1 s added to a report on a laptop outside, where a black-holed target always
# takes the whole budget (docs/benchmarks.md measures it). Inside, answers come in milliseconds.
DEFAULT_BUDGET_S = 0.8


@dataclass(frozen=True)
class Target:
    """One internal-only endpoint: a name to resolve, an address or name with a TCP port, or an
    HTTPS endpoint (TLS), optionally with the issuer its certificate must name."""

    text: str  # as the policy names it; the report and the rule key on it
    host: str
    port: int | None = None
    tls: bool = False
    issuer: str | None = None

    @property
    def is_address(self) -> bool:
        try:
            ipaddress.ip_address(self.host)
        except ValueError:
            return False
        return True


@dataclass(frozen=True)
class IsolationSettings:
    """The targets (from the policy, via commands/machine.py) and the ranges an address must
    fall in for a resolved name to count as internal (none given: any address counts)."""

    targets: tuple[Target, ...] = ()
    internal_cidrs: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    budget_s: float = DEFAULT_BUDGET_S
