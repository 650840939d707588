"""Evaluates rules on facts: pure and deterministic, the same on the agent and the collector."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from agent.policy.model import Check, Policy, Rule, RuleResult, RuleStatus, Scope
from agent.policy.operations import OPERATIONS, Inputs, Outcome
from agent.policy.selector import select


def _param(policy: Policy, check: Check) -> Any:
    values = [policy.lookup(path) for path in check.param]
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return [item for value in values for item in value]  # several lists, joined


def _scalar(facts: dict[str, Any], path: str | None) -> Any:
    if path is None:
        return None
    items = select(facts, path).items
    if not items:
        return None
    return [i.value for i in items] if len(items) > 1 or "[*]" in path else items[0].value


def run_check(check: Check, policy: Policy, facts: dict[str, Any], now: datetime) -> Outcome:
    """One check: select the fact, run the operation, fold in what could not be read."""
    selection = select(facts, check.fact)
    inputs = Inputs(
        param=_param(policy, check),
        now=now,
        key=_scalar(facts, check.key),
        detail=_scalar(facts, check.detail),
    )
    outcome = OPERATIONS[check.op](selection.items, inputs)
    if outcome.status == "fail" or not selection.unknown:
        return outcome
    return Outcome("unknown", list(dict.fromkeys(selection.unknown)))


_PRECEDENCE: tuple[RuleStatus, ...] = ("fail", "unknown", "pass", "not_applicable")


def _combine(outcomes: list[Outcome]) -> tuple[RuleStatus, list[str]]:
    """A rule takes its checks' worst status, with the evidence of the checks that gave it."""
    if len(outcomes) == 1:  # most rules have one check
        return outcomes[0].status, list(dict.fromkeys(outcomes[0].evidence))
    statuses = {o.status for o in outcomes}
    status = next(s for s in _PRECEDENCE if s in statuses)
    evidence = [e for o in outcomes if o.status == status for e in o.evidence]
    return status, list(dict.fromkeys(evidence))


def evaluate_rule(rule: Rule, policy: Policy, facts: dict[str, Any], now: datetime) -> RuleResult:
    override = policy.overrides.get(rule.id)
    status, evidence = _combine([run_check(c, policy, facts, now) for c in rule.checks])
    return RuleResult(
        id=rule.id,
        title=rule.title,
        severity=override.severity if override and override.severity else rule.severity,
        status=status,
        evidence=evidence,
        remediation=rule.remediation,
        guidance=rule.guidance,
        scope=rule.scope,
    )


def evaluate(
    policy: Policy,
    rules: Iterable[Rule],
    facts: dict[str, Any],
    now: datetime,
    scopes: tuple[Scope, ...] = ("agent",),
) -> list[RuleResult]:
    """Every enabled rule of the given scopes, in catalogue order."""
    return [
        evaluate_rule(rule, policy, facts, now)
        for rule in rules
        if rule.scope in scopes
        and (policy.overrides.get(rule.id) is None or policy.overrides[rule.id].enabled)
    ]
