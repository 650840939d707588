"""Which changes become alerts, and what each says: from a batch of reports, a sweep, the clock.

Each alert's key names its change, so a change written twice (two collectors, a pass run again)
still makes one alert. A device that turns non-compliant gets one alert that names every failing
rule; a critical rule that starts to fail on a device already non-compliant gets its own."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, and_, bindparam, select

from agent.policy import RuleResult
from agent.policy.model import SEVERITIES
from server_stub.storage.alerts import AlertDraft, existing_keys, insert_alerts
from server_stub.storage.tables import Device, Event, RuleState

# A device whose state leaves one of these for compliant is said to have returned.
_RETURNS_FROM = ("non_compliant", "stale", "unapproved")
# Days before an approval ends that an alert is due; the most urgent one that applies is sent.
APPROVAL_WARNINGS = (7, 30)


def _worst(rules: list[dict[str, Any]], default: str) -> str:
    found = {r["severity"] for r in rules}
    return next((s for s in SEVERITIES if s in found), default)


def rule_entry(rule: RuleResult | dict[str, Any]) -> dict[str, Any]:
    """A rule as an alert names it: id, title, severity, status, evidence and remedy."""
    keys = ("id", "title", "severity", "status", "evidence", "remediation")
    if isinstance(rule, RuleResult):
        return {k: getattr(rule, k) for k in keys}
    return {k: rule["rule_id" if k == "id" else k] for k in keys}


def _failing(results: list[RuleResult]) -> list[dict[str, Any]]:
    return [rule_entry(r) for r in results if r.status == "fail"]


class AlertDrafts:
    """The alerts of one ingest batch, written with its rows in its transaction."""

    def __init__(self) -> None:
        self.drafts: list[AlertDraft] = []

    def state_changed(
        self,
        device_id: str,
        report_id: str,
        old: str,
        new: str,
        results: list[RuleResult],
        expires: date,
        now: datetime,
    ) -> bool:
        """A state a report changed; True when it made an alert."""
        failing = _failing(results)
        state: dict[str, str | None] = {"old": old, "new": new}
        if new == "non_compliant":
            detail = f"{len(failing)} rule(s) failing"
            self.drafts.append(
                AlertDraft(
                    f"non_compliant:{device_id}:{report_id}", "non_compliant",
                    _worst(failing, "medium"), device_id, now,
                    "{name} is non-compliant", detail, failing, state,
                )
            )  # fmt: skip
        elif new == "compliant" and old in _RETURNS_FROM:
            self.drafts.append(
                AlertDraft(
                    f"compliant:{device_id}:{report_id}", "compliant", "low", device_id, now,
                    "{name} is compliant again", f"was {old}", [], state,
                )
            )  # fmt: skip
        elif new == "unapproved":
            self.drafts.append(expired_draft(device_id, expires, now, failing, state))
        else:
            return False
        return True

    def critical_failed(
        self,
        device_id: str,
        report_id: str,
        results: list[RuleResult],
        before: dict[str, str | None],
        now: datetime,
    ) -> None:
        """Critical rules failing in this report that did not fail before (rule id -> status
        before; None: never evaluated)."""
        new = [
            rule_entry(r)
            for r in results
            if r.severity == "critical" and r.status == "fail" and before.get(r.id) != "fail"
        ]
        if new:
            ids = ",".join(r["id"] for r in new)
            self.drafts.append(
                AlertDraft(
                    f"critical_rule:{device_id}:{report_id}", "critical_rule", "critical",
                    device_id, now, "{name}: a critical rule fails", f"newly failing: {ids}",
                    new, {},
                )
            )  # fmt: skip

    def refused(self, device_id: str, count: int, reason: str, now: datetime) -> None:
        """A report refused for good: count is the device's refusals so far, this one included."""
        self.drafts.append(
            AlertDraft(
                f"report_refused:{device_id}:{count}", "report_refused", "medium", device_id,
                now, "{name}: a report was refused", reason, [], {},
            )
        )  # fmt: skip

    def write(self, connection: Connection) -> None:
        insert_alerts(connection, self.drafts)


def expired_draft(
    device_id: str,
    expires: date,
    now: datetime,
    failing: list[dict[str, Any]],
    state: dict[str, str | None],
) -> AlertDraft:
    """The approval ended: the same key whether a report or the sweep finds it first."""
    return AlertDraft(
        f"approval_expired:{device_id}:{expires.isoformat()}", "approval_expired", "high",
        device_id, now, "{name}: approval expired", f"approval ended {expires.isoformat()}",
        failing, state,
    )  # fmt: skip


_SWEPT = (
    select(Event.device_id, Event.old, Event.new, Device.approval_expires, Device.last_seen_at)
    .join(Device, Device.id == Event.device_id)
    .where(
        Event.kind == "state",
        Event.at == bindparam("now"),
        Event.new.in_(("stale", "unapproved")),
        Event.device_id > bindparam("after"),
        Event.device_id <= bindparam("upto"),
    )
)
_FAILING_RULES = select(RuleState).where(
    RuleState.device_id.in_(bindparam("ids", expanding=True)), RuleState.status == "fail"
)


def sweep_alerts(connection: Connection, after: str, upto: str, now: datetime) -> int:
    """In the sweep batch's transaction, after its writes: an alert for each device the batch
    made stale or unapproved (its state events at `now` in the id range (after, upto])."""
    changed = list(connection.execute(_SWEPT, {"now": now, "after": after, "upto": upto}))
    if not changed:
        return 0
    rules: dict[str, list[dict[str, Any]]] = {}
    for row in connection.execute(_FAILING_RULES, {"ids": [c.device_id for c in changed]}):
        rules.setdefault(row.device_id, []).append(rule_entry(dict(row._mapping)))
    drafts = []
    for c in changed:
        failing, state = rules.get(c.device_id, []), {"old": c.old, "new": c.new}
        if c.new == "unapproved":
            drafts.append(expired_draft(c.device_id, c.approval_expires, now, failing, state))
            continue
        seen = c.last_seen_at.strftime("%Y-%m-%dT%H:%M:%SZ") if c.last_seen_at else "never"
        drafts.append(
            AlertDraft(
                f"stale:{c.device_id}:{seen}", "stale", "high", c.device_id, now,
                "{name} has stopped reporting", f"last report received {seen}", failing, state,
            )
        )  # fmt: skip
    insert_alerts(connection, drafts)
    return len(drafts)


_EXPIRING = select(Device.id, Device.approval_expires).where(
    Device.revoked_at.is_(None),
    and_(
        Device.approval_expires >= bindparam("today"), Device.approval_expires <= bindparam("until")
    ),
)


def approval_alerts(engine: Engine, today: date, now: datetime) -> int:
    """An alert for each approval that ends within 30 days, and again within 7 (the most urgent
    that applies, once per device and expiry date); returns how many were written."""
    until = today + timedelta(days=max(APPROVAL_WARNINGS))
    with engine.connect() as connection:
        due = list(connection.execute(_EXPIRING, {"today": today, "until": until}))
    drafts = {}
    for device_id, expires in due:
        days = min(d for d in APPROVAL_WARNINGS if (expires - today).days <= d)
        key = f"approval_{days}d:{device_id}:{expires.isoformat()}"
        drafts[key] = AlertDraft(
            key, f"approval_{days}d", "medium" if days == 7 else "low", device_id, now,
            f"{{name}}: approval ends within {days} days", f"approval ends {expires.isoformat()}",
        )  # fmt: skip
    if not drafts:
        return 0
    with engine.begin() as connection:
        keys = list(drafts)
        known: set[str] = set()
        for start in range(0, len(keys), 500):
            known |= existing_keys(connection, keys[start : start + 500])
        new = [d for k, d in drafts.items() if k not in known]
        insert_alerts(connection, new)
    return len(new)
