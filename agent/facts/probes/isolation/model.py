"""The isolation probe's data: what each internal-only target did, and nothing more."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from agent.report import fact

Answer = Literal[
    "not_found",
    "resolved",
    "connected",
    "other_issuer",
    "tls_failed",
    "refused",
    "unreachable",
    "timeout",
    "no_answer",
]


@dataclass(frozen=True, kw_only=True)
class TargetResult:
    """One internal-only target, as tried from this device."""

    target: str = fact("The target as the policy names it.")
    resolved: bool | None = fact(
        "The name resolved through the system resolver; null for an address, or when the "
        "resolver did not answer within the budget."
    )
    internal_address: bool | None = fact(
        "It resolved to an address in the policy's internal ranges; null when it did not "
        "resolve or the policy lists no ranges."
    )
    reachable: bool | None = fact(
        "A TCP connection (and TLS with the expected issuer, where configured) was made; null "
        "when none was tried (no port, or nothing to connect to)."
    )
    answer: Answer = fact(
        "How it answered: not_found, resolved, connected, other_issuer, tls_failed, refused, "
        "unreachable, timeout (nothing within the budget), no_answer (the resolver failed)."
    )
    duration_ms: int = fact("How long trying it took.")
    interface: str | None = fact("Interface the route to it left by; null when there was none.")


@dataclass(frozen=True, kw_only=True)
class IsolationData:
    """The policy's internal-only targets, each resolved and connected to within the budget."""

    targets: list[TargetResult] = fact("Every target the policy names, in its order.")
    budget_ms: int = fact("The time all targets together were allowed.")
