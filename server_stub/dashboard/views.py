"""What the pages show, computed in Python: fleet query parameters, rule order, facts, policy."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from agent.policy import Policy, load_catalogue
from agent.policy.engine import exempted
from agent.report import parse_timestamp
from server_stub.storage import reads
from server_stub.storage.clock import as_utc, iso
from server_stub.storage.tables import EnrolmentToken, Event, RuleState

PAGE_SIZE = 50
MAX_PAGE_NUMBER = 100_000
MAX_SEARCH = 100
STATUS_ORDER = {"fail": 0, "due": 1, "unknown": 2, "excepted": 3, "pass": 4, "not_applicable": 5}
SEVERITY_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3}
PROBES = ("patch_level", "applications", "network", "accounts", "device_security", "credentials")
# The catalogue's rules by id: titles and severities beside the ids the fleet table shows.
RULES = {rule.id: rule for rule in load_catalogue()}


def whole_number(text: str | None) -> int | None:
    """ASCII digits, at most 18 of them, as a number; None for anything else. str.isdigit()
    alone lets "²" through, and int() refuses 4,301 digits or more: both a ValueError (a 500)."""
    if not text or len(text) > 18 or not (text.isascii() and text.isdigit()):
        return None
    return int(text)


def page_number(text: str | None) -> int:
    """A 1-based page number from a query string; anything odd is page 1."""
    number = whole_number(text)
    if number is None:
        return 1
    return max(1, min(number, MAX_PAGE_NUMBER))


@dataclass(frozen=True)
class FleetView:
    """The fleet table's query: filter, search, sort and page, all from the URL."""

    state: str = ""
    q: str = ""
    sort: str = "name"
    desc: bool = False
    page: int = 1
    rule: str = ""
    severity: str = ""
    department: str = ""

    @classmethod
    def parse(cls, state: str | None, q: str | None, sort: str | None, desc: str | None,
              page: str | None, rule: str | None = None, severity: str | None = None,
              department: str | None = None) -> FleetView:  # fmt: skip
        return cls(
            state=state if state in reads.STATES else "",
            q=(q or "").strip()[:MAX_SEARCH],
            sort=sort if sort in reads.SORTS else "name",
            desc=desc in ("1", "true", "yes"),
            page=page_number(page),
            rule=rule if rule in RULES else "",
            severity=severity if severity in SEVERITY_ORDER else "",
            department=(department or "").strip()[:MAX_SEARCH].replace("\x00", ""),
        )

    @property
    def filtered(self) -> bool:
        return bool(self.state or self.q or self.rule or self.severity or self.department)

    def query(self) -> reads.DeviceQuery:
        offset = (self.page - 1) * PAGE_SIZE
        return reads.DeviceQuery(
            self.state or None, self.q or None, self.sort, self.desc, PAGE_SIZE, offset,
            rule=self.rule or None, severity=self.severity or None,
            department=self.department or None,
        )  # fmt: skip

    def url(self, **changes: Any) -> str:
        view = replace(self, **changes)
        params: dict[str, str] = {}
        if view.state:
            params["state"] = view.state
        if view.q:
            params["q"] = view.q
        if view.rule:
            params["rule"] = view.rule
        if view.severity:
            params["severity"] = view.severity
        if view.department:
            params["department"] = view.department
        if view.sort != "name":
            params["sort"] = view.sort
        if view.desc:
            params["desc"] = "1"
        if view.page > 1:
            params["page"] = str(view.page)
        return "/?" + urlencode(params) if params else "/"

    def sort_url(self, column: str) -> str:
        """Sorting by the current column flips the order; a new column starts ascending."""
        return self.url(sort=column, desc=not self.desc if column == self.sort else False, page=1)

    def aria_sort(self, column: str) -> str:
        if column != self.sort:
            return "none"
        return "descending" if self.desc else "ascending"


def page_count(total: int) -> int:
    return max(1, math.ceil(total / PAGE_SIZE))


def device_rows(devices: list[Any], today: date) -> list[dict[str, Any]]:
    rows = []
    for device in devices:
        row = reads.device_summary(device)
        row["expired"] = device.approval_expires < today
        row["reports_refused"] = device.reports_refused
        row["failing"] = [failing_rule(rule_id) for rule_id in row["failing_rules"]]
        rows.append(row)
    return rows


def token_rows(tokens: list[EnrolmentToken], now: datetime) -> list[dict[str, Any]]:
    """Each enrolment token's expiry and state in words (the token itself is never kept)."""
    rows = []
    for token in tokens:
        if token.used_at is not None:
            state = f"used {iso(token.used_at)}"
        elif as_utc(token.expires_at) < now:
            state = "expired unused"
        else:
            state = "valid, not used yet"
        rows.append({"expires_at": token.expires_at, "state": state})
    return rows


def failing_rule(rule_id: str) -> dict[str, str]:
    """A failing rule's id with its title and severity (a rule gone from the catalogue keeps
    its id)."""
    rule = RULES.get(rule_id)
    return {
        "id": rule_id,
        "title": rule.title if rule else rule_id,
        "severity": rule.severity if rule else "",
    }


def rules_view(policy: Policy, counts: dict[str, dict[str, int]]) -> list[dict[str, Any]]:
    """Each rule in force with how many devices fail it and cannot be checked for it, most
    failing first, severest first among equals."""
    rows = [
        {
            "id": rule.id,
            "title": rule.title,
            "severity": rule.severity,
            "fail": counts.get(rule.id, {}).get("fail", 0),
            "unknown": counts.get(rule.id, {}).get("unknown", 0),
        }
        for rule in policy_rules(policy)
        if rule.enabled
    ]
    return sorted(rows, key=lambda r: (-r["fail"], SEVERITY_ORDER.get(r["severity"], 9), r["id"]))


def ordered_rules(states: list[RuleState]) -> list[RuleState]:
    """Failing first, then unknown, pass and not applicable; worst severity first within each."""

    def key(rule: RuleState) -> tuple[int, int, str]:
        return (
            STATUS_ORDER.get(rule.status, 9),
            SEVERITY_ORDER.get(rule.severity, 9),
            rule.rule_id,
        )

    return sorted(states, key=key)


@dataclass(frozen=True)
class ProbeView:
    """One probe's outcome from the latest report."""

    name: str
    status: str
    duration_ms: Any
    collected_at: Any  # earlier than the report's when reused on a network change; None: old agent
    reused: bool  # collected_at is earlier than the report's (compared as times, not text)
    error: str | None
    data: dict[str, Any]


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def probe_views(report: dict[str, Any] | None) -> dict[str, ProbeView]:
    probes = _mapping(_mapping(report).get("probes"))
    report_at = _time(_mapping(report).get("collected_at"))
    views = {}
    for name in [*PROBES, *sorted(set(probes) - set(PROBES))]:
        raw = _mapping(probes.get(name))
        error = _mapping(raw.get("error"))
        message = f"{error.get('type', 'error')}: {error.get('message', '')}" if error else None
        views[name] = ProbeView(
            name=name,
            status=str(raw.get("status", "missing")),
            duration_ms=raw.get("duration_ms"),
            collected_at=raw.get("collected_at"),
            reused=_earlier(_time(raw.get("collected_at")), report_at),
            error=message,
            data=_mapping(raw.get("data")),
        )
    return views


def _time(value: object) -> datetime | None:
    """A report's RFC 3339 time (the contract allows fractional seconds); None if not one."""
    if not isinstance(value, str):
        return None
    try:
        return parse_timestamp(value)
    except ValueError:  # a report stored before the contract named this field: no marker
        return None


def _earlier(probe_at: datetime | None, report_at: datetime | None) -> bool:
    return probe_at is not None and report_at is not None and probe_at < report_at


def credentials_by_location(data: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    """The credentials probe's findings grouped by where they were found."""
    groups: dict[str, list[dict[str, Any]]] = {}
    findings = data.get("findings")
    for finding in findings if isinstance(findings, list) else []:
        if isinstance(finding, dict):
            groups.setdefault(str(finding.get("location", "?")), []).append(finding)
    return sorted(groups.items())


def permitted_identities(policy: Policy, report: dict[str, Any] | None) -> list[str]:
    """The permitted organisation identities the device's latest report shows in use, judged by
    this collector's policy (not by anything the agent says)."""
    return exempted(policy, load_catalogue(), report) if report else []


@dataclass(frozen=True)
class PolicyRule:
    """A catalogue rule as this collector's policy applies it."""

    id: str
    title: str
    guidance: str
    remediation: str
    remediation_by_os: dict[str, str]
    severity: str
    catalogue_severity: str
    enabled: bool
    scope: str
    grace_hours: int = 0


def policy_rules(policy: Policy) -> list[PolicyRule]:
    rules = []
    for rule in load_catalogue():
        override = policy.overrides.get(rule.id)
        rules.append(
            PolicyRule(
                id=rule.id,
                title=rule.title,
                guidance=rule.guidance,
                remediation=rule.remediation,
                remediation_by_os=dict(rule.remediation_by_os),
                severity=(override.severity if override and override.severity else rule.severity),
                catalogue_severity=rule.severity,
                enabled=override.enabled if override else True,
                scope=rule.scope,
                grace_hours=policy.grace_hours(rule),
            )
        )
    return rules


def event_text(kind: str, rule_id: str | None) -> str:
    return "Device state" if kind == "state" else f"Rule {rule_id or '?'}"


@dataclass(frozen=True)
class TimelineRow:
    """One row of a device's timeline: a change, or the rules a report checked for the first
    time folded into one (a first report would otherwise add twenty "- -> pass" rows)."""

    event: Event
    first_results: tuple[Event, ...] = ()

    def summary(self) -> str:
        counts: dict[str, int] = {}
        for e in self.first_results:
            counts[e.new] = counts.get(e.new, 0) + 1
        parts = ", ".join(f"{n} {status.replace('_', ' ')}" for status, n in sorted(counts.items()))
        return f"{len(self.first_results)} rules checked for the first time: {parts}"


def timeline(events: list[Event]) -> list[TimelineRow]:
    """Newest first, as given; the first results of each report's rules folded into one row."""
    rows: list[TimelineRow] = []
    folded: dict[str | None, list[Event]] = {}
    for event in events:
        if event.kind == "rule" and event.old is None:
            group = folded.setdefault(event.report_id, [])
            if not group:
                rows.append(TimelineRow(event))  # replaced below by the whole group
            group.append(event)
        else:
            rows.append(TimelineRow(event))
    return [
        TimelineRow(r.event, tuple(folded[r.event.report_id]))
        if r.event.kind == "rule" and r.event.old is None
        else r
        for r in rows
    ]


def state_changes(events: list[Event]) -> list[tuple[datetime, str | None, str]]:
    """The device's state changes (time, old, new), oldest first, from its history."""
    changes = [(as_utc(e.at), e.old, e.new) for e in events if e.kind == "state"]
    return sorted(changes, key=lambda c: c[0])


def trend_rows(
    days: dict[date, dict[str, int]], first: date, last: date
) -> list[tuple[date, dict[str, int]]]:
    """The trend's figures as a table, newest day first (the chart's text equivalent)."""
    span = (last - first).days + 1
    every = [last - timedelta(days=n) for n in range(span)]
    return [(day, days[day]) for day in every if day in days]
