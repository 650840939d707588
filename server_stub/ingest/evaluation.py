"""Runs agent.policy on a report plus the collector's own facts, and derives the device state."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from agent.policy import Evaluator, Policy, Rule, RuleResult, load_catalogue, verdict
from agent.policy.model import Scope

SCOPES: tuple[Scope, ...] = ("agent", "collector")
REVOKED_STATE = "revoked"
# The states a failing catalogue rule can put a device in (Rule.device_state), strongest first:
# an unapproved device is unapproved whether or not it still reports.
RULE_STATES = ("unapproved", "stale")


@dataclass(frozen=True)
class CollectorFacts:
    """What only the collector knows about a report."""

    source_ip: str
    approved: bool
    approval_expires: date | None
    last_seen_at: datetime
    clock_offset_s: float  # the report's collected_at minus its receive time: + fast, - slow


def clock_offset_text(offset_s: float) -> str:
    """-183600 -> "clock 2 days 3 h slow"; to the minute, so a right clock reads the same in
    every report (its rule row is rewritten only when what it says changes)."""
    minutes = round(abs(offset_s) / 60)
    if minutes == 0:
        return "clock right to the minute"
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        amount = f"{days} day{'s' if days != 1 else ''} {hours} h"
    elif hours:
        amount = f"{hours} h {mins} min"
    else:
        amount = f"{mins} min"
    return f"clock {amount} {'fast' if offset_s > 0 else 'slow'}"


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
            "clock_offset_s": round(facts.clock_offset_s),
            # The clock rule compares the size of the offset (at_most); the sign is in the text.
            "clock_skew_minutes": round(abs(facts.clock_offset_s) / 60),
            "clock_offset": clock_offset_text(facts.clock_offset_s),
        },
    }
    return evaluator.evaluate(combined, now)


def states_of_rules(catalogue: tuple[Rule, ...]) -> dict[str, str]:
    """rule id -> the device state its failure means, for the rules that name one."""
    states = {rule.id: rule.device_state for rule in catalogue if rule.device_state}
    unknown = set(states.values()) - set(RULE_STATES)
    if unknown:
        raise ValueError(f"the catalogue names device states the collector lacks: {unknown}")
    return states


@functools.cache
def _catalogue_states() -> dict[str, str]:
    return states_of_rules(load_catalogue())


def rule_for_state(state: str) -> str:
    """The id of the one catalogue rule whose failure puts a device in this state."""
    [rule_id] = [rule_id for rule_id, s in _catalogue_states().items() if s == state]
    return rule_id


def device_state(results: list[RuleResult], revoked: bool) -> str:
    """revoked > unapproved > stale (the catalogue's rules for them fail) > the rules' verdict."""
    if revoked:
        return REVOKED_STATE
    states = _catalogue_states()
    failing = {states.get(r.id) for r in results if r.status == "fail"}
    for state in RULE_STATES:
        if state in failing:
            return state
    return verdict(results)


def state_of_rows(statuses: Iterable[tuple[str, str]], revoked: bool) -> str:
    """device_state from stored (rule id, status) pairs, as the sweeper re-judges them."""
    if revoked:
        return REVOKED_STATE
    states = _catalogue_states()
    seen = list(statuses)
    failing = {states.get(rule_id) for rule_id, status in seen if status == "fail"}
    for state in RULE_STATES:
        if state in failing:
            return state
    found = {status for _, status in seen}
    if "fail" in found:
        return "non_compliant"
    return "unknown" if "unknown" in found else "compliant"
