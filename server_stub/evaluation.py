"""Runs agent.policy on a report plus the collector's own facts, and derives the device state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from agent.policy import Evaluator, Policy, RuleResult, load_catalogue, verdict
from agent.policy.model import Scope

SCOPES: tuple[Scope, ...] = ("agent", "collector")


@dataclass(frozen=True)
class CollectorFacts:
    """What only the collector knows about a report."""

    source_ip: str
    approved: bool
    approval_expires: date | None
    last_seen_at: datetime


def collector_evaluator(policy: Policy) -> Evaluator:
    """The agent's rules and the collector's own, with this policy's values."""
    return Evaluator(policy, load_catalogue(), SCOPES)


def evaluate_report(
    evaluator: Evaluator, report: dict[str, Any], facts: CollectorFacts, now: datetime
) -> list[RuleResult]:
    combined = {
        **report,
        "collector": {
            "source_ip": facts.source_ip,
            "approved": facts.approved,
            "approval_expires": (
                facts.approval_expires.isoformat() if facts.approval_expires else None
            ),
            "last_seen_at": facts.last_seen_at.isoformat(),
        },
    }
    return evaluator.evaluate(combined, now)


def device_state(results: list[RuleResult], revoked: bool) -> str:
    """revoked > unapproved (ADM-001 fails) > stale (ADM-002 fails) > the rules' verdict."""
    if revoked:
        return "revoked"
    failing = {r.id for r in results if r.status == "fail"}
    if "ADM-001" in failing:
        return "unapproved"
    if "ADM-002" in failing:
        return "stale"
    return verdict(results)
