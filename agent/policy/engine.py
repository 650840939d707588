"""Evaluates rules on facts: pure and deterministic, the same on the agent and the collector."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from agent.policy.model import (
    Check,
    Policy,
    Rule,
    RuleResult,
    RuleStatus,
    Scope,
    Severity,
    os_family,
)
from agent.policy.operations import OPERATIONS, Inputs, Operation, Outcome, fact_name
from agent.policy.selector import select

_PRECEDENCE: tuple[RuleStatus, ...] = ("fail", "unknown", "pass", "not_applicable")


def _param(policy: Policy, check: Check) -> Any:
    values = [policy.lookup(path) for path in check.param]
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return [item for value in values for item in value]  # several lists, joined


def _scalar(facts: dict[str, Any], path: str | None) -> Any:
    """A key or detail fact: its value, a list of values where the path walks a list, or None
    (only the value matters here, not why it is missing)."""
    if path is None:
        return None
    items = select(facts, path).items
    if not items:
        return None
    return [i.value for i in items] if len(items) > 1 or "[*]" in path else items[0].value


@dataclass(frozen=True, slots=True)
class _Compiled:
    """A check with what does not change between reports worked out once: its operation,
    its policy value and the words for its fact."""

    fact: str
    operation: Operation
    param: Any
    key: str | None
    detail: str | None
    name: str


def _compile(check: Check, policy: Policy) -> _Compiled:
    return _Compiled(
        check.fact,
        OPERATIONS[check.op],
        _param(policy, check),
        check.key,
        check.detail,
        fact_name(check.fact),
    )


def _run(check: _Compiled, facts: dict[str, Any], now: datetime) -> Outcome:
    """One check: select the fact, run the operation, fold in what could not be read."""
    selection = select(facts, check.fact)
    inputs = Inputs(
        param=check.param,
        now=now,
        key=_scalar(facts, check.key),
        detail=_scalar(facts, check.detail),
        name=check.name,
    )
    outcome = check.operation(selection.items, inputs)
    # A failure stands whatever else is unknown; so does "the policy gives nothing to compare
    # with" (a rule that cannot fail is not unknown because its facts are missing, e.g. NET-009
    # on a report from an agent older than the isolation probe).
    if outcome.status in ("fail", "not_applicable") or not selection.unknown:
        return outcome
    return Outcome("unknown", list(dict.fromkeys(selection.unknown)))


def _combine(outcomes: list[Outcome]) -> tuple[RuleStatus, list[str]]:
    """A rule takes its checks' worst status, with the evidence of the checks that gave it."""
    if len(outcomes) == 1:  # most rules have one check
        return outcomes[0].status, list(dict.fromkeys(outcomes[0].evidence))
    statuses = {o.status for o in outcomes}
    status = next(s for s in _PRECEDENCE if s in statuses)
    evidence = [e for o in outcomes if o.status == status for e in o.evidence]
    return status, list(dict.fromkeys(evidence))


def _severity(rule: Rule, policy: Policy) -> Severity:
    override = policy.overrides.get(rule.id)
    return override.severity if override and override.severity else rule.severity


def _result(
    rule: Rule, severity: Severity, outcomes: list[Outcome], family: str | None
) -> RuleResult:
    status, evidence = _combine(outcomes)
    return RuleResult(
        id=rule.id,
        title=rule.title,
        severity=severity,
        status=status,
        evidence=evidence,
        remediation=rule.remediation_for(family),
        guidance=rule.guidance,
        scope=rule.scope,
    )


class Evaluator:
    """A policy's enabled rules of some scopes, with their operations and policy values looked
    up once: the agent builds one per self-check, the collector one per policy it serves."""

    def __init__(
        self, policy: Policy, rules: Iterable[Rule], scopes: tuple[Scope, ...] = ("agent",)
    ) -> None:
        self._rules = [
            (
                rule,
                _severity(rule, policy),
                [_compile(check, policy) for check in rule.checks],
            )
            for rule in rules
            if rule.scope in scopes
            and (policy.overrides.get(rule.id) is None or policy.overrides[rule.id].enabled)
        ]

    def evaluate(self, facts: dict[str, Any], now: datetime) -> list[RuleResult]:
        """Every enabled rule of the scopes, in catalogue order, each remedy in the words of
        the report's OS."""
        host = facts.get("host")
        family = os_family(host.get("os") if isinstance(host, dict) else None)
        return [
            _result(rule, severity, [_run(check, facts, now) for check in checks], family)
            for rule, severity, checks in self._rules
        ]
