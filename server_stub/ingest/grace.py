"""Grace periods and exceptions applied to a device's rule results: a failure within its rule's
grace is "due" (due_by), a failure under an exception is "excepted"; neither is a failure of
the device. Pure: the stored rows and the exceptions holding are handed in."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from agent.policy import Policy, RuleResult, load_catalogue
from server_stub.storage.clock import as_utc
from server_stub.storage.exceptions import Holding
from server_stub.storage.rule_changes import failing_since

Grace = Mapping[str, timedelta]
# A stored rule row by rule id, as this transaction has it (None: the device has none).
StoredRow = Callable[[str], Mapping[str, Any] | None]
NOTHING: dict[str, Any] = {"due_by": None, "excepted_by": None, "excepted_until": None}


def grace_periods(policy: Policy) -> dict[str, timedelta]:
    """rule id -> its grace period, for the rules that have one under this policy."""
    periods = {rule.id: policy.grace_hours(rule) for rule in load_catalogue()}
    return {rule_id: timedelta(hours=hours) for rule_id, hours in periods.items() if hours > 0}


@dataclass(frozen=True)
class Judged:
    """A rule's status after grace and exceptions, and the columns that say why."""

    status: str
    extra: dict[str, Any]


def judge_rule(
    rule_id: str,
    raw: str,
    stored: Mapping[str, Any] | None,
    held: Holding | None,
    grace: Grace,
    now: datetime,
) -> Judged:
    """raw: what the rule found (pass, fail, unknown, not_applicable). An exception covers a
    failure only: a rule it covers that passes again shows its pass."""
    if raw != "fail":
        return Judged(raw, NOTHING)
    if held is not None:
        return Judged(
            "excepted",
            {"due_by": None, "excepted_by": held.granted_by, "excepted_until": held.until},
        )
    period = grace.get(rule_id)
    if period is not None:
        due_by = failing_since(stored, now) + period
        if due_by > now:
            return Judged("due", {**NOTHING, "due_by": due_by})
    return Judged("fail", NOTHING)


def needs_stored(results: list[RuleResult], grace: Grace, failing: Collection[str]) -> bool:
    """Whether judging needs the stored rows: since when has a rule with a grace period failed?
    Not for the rules the device already fails for good (`failing`: past their grace)."""
    return any(r.status == "fail" and r.id in grace and r.id not in failing for r in results)


def judge_results(
    results: list[RuleResult],
    stored: StoredRow,
    holds: Mapping[str, Holding],
    grace: Grace,
    now: datetime,
    failing: Collection[str] = (),
) -> tuple[list[RuleResult], dict[str, dict[str, Any]]] | None:
    """The results with grace and exceptions applied, and each changed rule's extra columns;
    None when neither changes anything (most reports: no failure has grace or an exception).
    `failing`: the rules the device already fails for good, whose grace is over."""

    def allowed(rule_id: str) -> bool:
        return rule_id in holds or (rule_id in grace and rule_id not in failing)

    if not any(r.status == "fail" and allowed(r.id) for r in results):
        return None
    judged, extra = [], {}
    for result in results:
        if result.status != "fail" or not allowed(result.id):
            judged.append(result)
            continue
        verdict = judge_rule(result.id, "fail", stored(result.id), holds.get(result.id), grace, now)
        judged.append(dataclasses.replace(result, status=verdict.status))  # type: ignore[arg-type]
        extra[result.id] = verdict.extra
    return judged, extra


def raw_status(row: Mapping[str, Any]) -> str:
    """What the rule found, under a stored row's status."""
    return "fail" if row["status"] in ("due", "excepted") else str(row["status"])


def notes(extra: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, str]]:
    """The due and excepted rules as the agent is told them: rule id -> status, until, by."""
    told: dict[str, dict[str, str]] = {}
    for rule_id, columns in extra.items():
        if columns.get("excepted_until") is not None:
            until = as_utc(columns["excepted_until"]).strftime("%Y-%m-%dT%H:%M:%SZ")
            told[rule_id] = {"status": "excepted", "until": until, "by": columns["excepted_by"]}
        elif columns.get("due_by") is not None:
            until = as_utc(columns["due_by"]).strftime("%Y-%m-%dT%H:%M:%SZ")
            told[rule_id] = {"status": "due", "until": until}
    return told
