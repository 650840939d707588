"""Trying one internal-only target: resolve it, then connect (and shake hands) within a time."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from agent.facts.context import Context, FactUnavailable
from agent.facts.probes.isolation.model import Answer, TargetResult
from agent.facts.probes.isolation.settings import IsolationSettings, Target
from agent.facts.probes.isolation.tls_parse import parse_issuer
from agent.matching import network_containing

# A name with several addresses (IPv6 and IPv4, say): try no more than this many.
MAX_ADDRESSES = 2


@dataclass
class Progress:
    """What is known about one target so far; read when it finishes or the budget ends."""

    target: Target
    started: float
    resolved: bool | None = None
    internal_address: bool | None = None
    reachable: bool | None = None
    answer: Answer = "no_answer"
    interface: str | None = None
    finished_at: float | None = None
    addresses: list[str] = field(default_factory=list)

    def result(self, now: float) -> TargetResult:
        answer, reachable = self.answer, self.reachable
        if self.finished_at is None and self.target.port is not None and self.addresses:
            answer, reachable = "timeout", False  # still connecting: nothing answered in time
        return TargetResult(
            target=self.target.text,
            resolved=self.resolved,
            internal_address=self.internal_address,
            reachable=reachable,
            answer=answer,
            duration_ms=int(((self.finished_at or now) - self.started) * 1000),
            interface=self.interface,
        )


def interface_of(ctx: Context, address: str) -> str | None:
    """The interface holding the local address the route to `address` leaves from."""
    source = ctx.route_source(address)
    if source is None:
        return None
    for name, addresses in ctx.net_if_addrs().items():
        if any(a.address.split("%")[0] == source for a in addresses):
            return name
    return None


def _resolve(ctx: Context, progress: Progress, settings: IsolationSettings) -> bool:
    """Fill in the addresses; False when there is nothing to connect to."""
    target = progress.target
    if target.is_address:
        progress.addresses = [target.host]
        return True
    try:
        progress.addresses = ctx.resolve(target.host)
    except FactUnavailable:
        progress.answer = "no_answer"
        return False
    progress.resolved = bool(progress.addresses)
    if not progress.addresses:
        progress.answer = "not_found"
        return False
    if settings.internal_cidrs:
        progress.internal_address = any(
            network_containing(a, list(settings.internal_cidrs)) is not None
            for a in progress.addresses
        )
    progress.interface = interface_of(ctx, progress.addresses[0])
    progress.answer = "resolved"
    return target.port is not None


def _issuer_matches(expected: str | None, certificate: bytes | None) -> bool:
    if expected is None:
        return True
    if certificate is None:
        return False
    try:
        issuer = parse_issuer(certificate)
    except FactUnavailable:
        return False
    return expected.casefold() in issuer.casefold()


def try_target(
    ctx: Context, progress: Progress, settings: IsolationSettings, deadline: float
) -> None:
    """Resolve, then connect to at most MAX_ADDRESSES of its addresses until one answers."""
    target = progress.target
    if _resolve(ctx, progress, settings) and target.port is not None:
        progress.reachable = False
        for address in progress.addresses[:MAX_ADDRESSES]:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                progress.answer = "timeout"
                break
            progress.interface = interface_of(ctx, address)
            tls_name = target.host if target.tls else None
            done = ctx.connect(address, target.port, remaining, tls_name)
            progress.answer = done.outcome
            if done.outcome == "connected":
                progress.reachable = _issuer_matches(target.issuer, done.certificate)
                if not progress.reachable:
                    progress.answer = "other_issuer"
                break
    progress.finished_at = time.monotonic()
