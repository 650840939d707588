"""Policy, rule and result types shared by the agent and the collector."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Severity = Literal["critical", "high", "medium", "low"]
SEVERITIES: tuple[Severity, ...] = ("critical", "high", "medium", "low")
# "due" (failing within its grace period) and "excepted" (failing under an exception an admin
# granted) are the collector's: the engine never returns them, and neither is a failure.
RuleStatus = Literal["pass", "fail", "unknown", "not_applicable", "due", "excepted"]
Scope = Literal["agent", "collector"]
Verdict = Literal["compliant", "non_compliant", "unknown"]
# The OS families a remedy may be written for: the report's host.os is "windows", "macos", or
# a Linux distribution's os-release ID (debian, ubuntu, fedora...).
OS_FAMILIES = ("windows", "macos", "linux")


def os_family(host_os: object) -> str | None:
    """The family of a report's host.os; None when the report does not say."""
    if not isinstance(host_os, str) or not host_os:
        return None
    return host_os if host_os in ("windows", "macos") else "linux"


@dataclass(frozen=True)
class Check:
    """One operation on one fact; a rule fails when any of its checks fails."""

    op: str
    fact: str
    param: tuple[str, ...] = ()
    key: str | None = None
    detail: str | None = None
    # `except`: policy values (e.g. accounts.permitted_org_identities) that exempt an item from
    # the check when `except_on` (a field of the list element walked to reach it; None: the
    # value itself) equals one of them, letter case aside and nothing else (no trimming).
    exempt: tuple[str, ...] = ()
    exempt_on: str | None = None


@dataclass(frozen=True)
class Rule:
    """A rule from the catalogue (rules.toml)."""

    id: str
    title: str
    severity: Severity
    guidance: str
    remediation: str
    checks: tuple[Check, ...]
    scope: Scope = "agent"
    # The device state a failure of this rule puts the device in (collector rules: ADM-001
    # "unapproved", ADM-002 "stale"); None for rules that only make it non-compliant.
    device_state: str | None = None
    # The remedy in the words of one OS family (the exact command or settings path); a family
    # without one gets `remediation`.
    remediation_by_os: Mapping[str, str] = field(default_factory=dict)
    # Hours a failure may last before it makes the device non-compliant (patches: time to
    # install them); 0: at once.
    grace_hours: int = 0

    def remediation_for(self, family: str | None) -> str:
        return self.remediation_by_os.get(family or "", self.remediation)


@dataclass(frozen=True)
class RuleOverride:
    """A policy's per-rule settings."""

    enabled: bool = True
    severity: Severity | None = None
    grace_hours: int | None = None  # None: the catalogue's


@dataclass(frozen=True)
class Policy:
    """An organisation's validated policy: its values and its rule overrides."""

    values: dict[str, dict[str, Any]]
    overrides: dict[str, RuleOverride] = field(default_factory=dict)
    source: str = "default"

    @property
    def organisation_name(self) -> str:
        return str(self.values["organisation"]["name"])

    @property
    def interval_minutes(self) -> int:
        return int(self.values["reporting"]["interval_minutes"])

    def grace_hours(self, rule: Rule) -> int:
        """The rule's grace period in hours: the policy's override, else the catalogue's."""
        override = self.overrides.get(rule.id)
        if override is not None and override.grace_hours is not None:
            return override.grace_hours
        return rule.grace_hours

    def lookup(self, path: str) -> Any:
        table, _, key = path.partition(".")
        return self.values[table][key]


@dataclass(slots=True)  # not frozen: the collector builds 20 per report (see selector.Item)
class RuleResult:
    """What one rule found: the same shape on the agent and the collector."""

    id: str
    title: str
    severity: Severity
    status: RuleStatus
    evidence: list[str]
    remediation: str
    guidance: str
    scope: Scope = "agent"


def verdict(results: list[RuleResult]) -> Verdict:
    """Any failure is non-compliant; otherwise any unknown is unknown; else compliant."""
    statuses = {r.status for r in results}
    if "fail" in statuses:
        return "non_compliant"
    if "unknown" in statuses:
        return "unknown"
    return "compliant"
