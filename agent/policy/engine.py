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
from agent.policy.selector import Item, select

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


def _exempt_values(policy: Policy, check: Check) -> frozenset[str]:
    """The check's `except` values, case-folded for an exact match."""
    return frozenset(str(v).casefold() for path in check.exempt for v in policy.lookup(path))


def _exempt_key(item: Item, exempt_on: str | None) -> str | None:
    """What an item is exempted by: its `except_on` field (else its value), when text."""
    value = item.value
    if exempt_on is not None:
        value = item.element.get(exempt_on) if isinstance(item.element, dict) else None
    return value if isinstance(value, str) else None


def _split(
    items: list[Item], exempt_on: str | None, exempt: frozenset[str]
) -> tuple[list[Item], list[str]]:
    """The items the check judges, and the exempted ones as evidence ("permitted: ...")."""
    if not exempt:
        return items, []
    kept, exempted = [], []
    for item in items:
        key = _exempt_key(item, exempt_on)
        # Exact after case-folding: "x@example.ac.uk " or "x@example.ac.uk.evil.test" is not x.
        if key is not None and key.casefold() in exempt:
            exempted.append(f"permitted: {key} ({item.label or item.value})")
        else:
            kept.append(item)
    return kept, exempted


def exempted(policy: Policy, rules: Iterable[Rule], facts: dict[str, Any]) -> list[str]:
    """The exempted values (the permitted organisation identities) a report shows in use, by
    the rules' `except` checks and this policy: what the dashboard names per device."""
    found: dict[str, None] = {}
    for rule in rules:
        for check in rule.checks:
            exempt = _exempt_values(policy, check)
            for item in select(facts, check.fact).items if exempt else []:
                key = _exempt_key(item, check.exempt_on)
                if key is not None and key.casefold() in exempt:
                    found[key.casefold()] = None
    return list(found)


@dataclass(frozen=True, slots=True)
class _Compiled:
    """A check with what does not change between reports worked out once: its operation,
    its policy value, the words for its fact and the values that exempt an item."""

    fact: str
    operation: Operation
    param: Any
    key: str | None
    detail: str | None
    name: str
    exempt_on: str | None
    exempt: frozenset[str]


def _compile(check: Check, policy: Policy) -> _Compiled:
    return _Compiled(
        check.fact,
        OPERATIONS[check.op],
        _param(policy, check),
        check.key,
        check.detail,
        fact_name(check.fact),
        check.exempt_on,
        _exempt_values(policy, check),
    )


def _run(check: _Compiled, facts: dict[str, Any], now: datetime) -> Outcome:
    """One check: select the fact, leave out exempted items, run the operation, fold in what
    could not be read."""
    selection = select(facts, check.fact)
    items, exempted_evidence = _split(selection.items, check.exempt_on, check.exempt)
    inputs = Inputs(
        param=check.param,
        now=now,
        key=_scalar(facts, check.key),
        detail=_scalar(facts, check.detail),
        name=check.name,
    )
    outcome = check.operation(items, inputs)
    outcome.evidence.extend(exempted_evidence)
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
