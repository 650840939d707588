"""Audit evidence for a date range: per device (approval, share of time compliant, every
violation with start, end and duration, exceptions granted) as a printable page and as CSV;
the audit log as CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from server_stub.api.deps import DB
from server_stub.dashboard.web import MaybeViewer, Viewer, error_page, render, to_login
from server_stub.spreadsheet import safe_cell
from server_stub.storage.clock import iso, utcnow
from server_stub.storage.evidence import audit_entries_between, evidence

router = APIRouter(include_in_schema=False)
Day = Annotated[str | None, Query()]
DEFAULT_DAYS = 30
MAX_DAYS = 3660


@dataclass(frozen=True)
class Period:
    """Whole UTC days, first to last inclusive; `end` (exclusive) is at most now."""

    first: date
    last: date
    start: datetime
    end: datetime


def period(first: str | None, last: str | None) -> Period | str:
    """The range asked for (default: the last 30 days to today), or what is wrong with it."""
    today = utcnow().date()
    try:
        to_day = date.fromisoformat(last) if last else today
        from_day = date.fromisoformat(first) if first else to_day - timedelta(days=DEFAULT_DAYS)
    except ValueError:
        return "Give the dates as YYYY-MM-DD."
    if from_day > to_day:
        return "The first day comes after the last."
    if (to_day - from_day).days > MAX_DAYS:
        return "Ask for at most ten years at a time."
    start = datetime.combine(from_day, time(), UTC)
    end = min(datetime.combine(to_day + timedelta(days=1), time(), UTC), utcnow())
    return Period(from_day, to_day, start, max(start, end))


def _csv(name: str, header: list[str], rows: Iterable[list[object]]) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows([safe_cell(v) for v in row] for row in rows)
    disposition = f'attachment; filename="{name}"'
    return Response(
        out.getvalue(), media_type="text/csv", headers={"Content-Disposition": disposition}
    )


def _checked(
    request: Request, who: Viewer | None, first: str | None, last: str | None
) -> tuple[Viewer, Period] | Response:
    if who is None:
        return to_login(request)
    found = period(first, last)
    if isinstance(found, str):
        return error_page(request, who, 400, found)
    return who, found


@router.get("/evidence")
def evidence_page(
    request: Request, session: DB, who: MaybeViewer, first: Day = None, last: Day = None
) -> Response:
    """The printable evidence of a period."""
    checked = _checked(request, who, first, last)
    if isinstance(checked, Response):
        return checked
    viewer, span = checked
    devices = evidence(session, span.start, span.end)
    return render(request, "evidence.html", viewer, span=span, devices=devices, made=utcnow())


@router.get("/evidence.csv")
def evidence_csv(
    request: Request, session: DB, who: MaybeViewer, first: Day = None, last: Day = None
) -> Response:
    """One row per violation and one per exception (a device with neither: one row with those
    cells empty)."""
    checked = _checked(request, who, first, last)
    if isinstance(checked, Response):
        return checked
    _, span = checked
    header = [
        "device", "owner", "department", "approved_by", "approval_expires", "compliant_share",
        "violation_rule", "violation_start", "violation_end", "violation_hours",
        "exception_rule", "exception_for", "exception_granted_by", "exception_from",
        "exception_until", "exception_revoked_by", "exception_reason", "exception_mitigation",
    ]  # fmt: skip
    no_exception = [""] * 8
    rows: list[list[object]] = []
    for d in evidence(session, span.start, span.end):
        share = "" if d.compliant_share is None else f"{d.compliant_share:.4f}"
        head = [d.name, d.owner, d.department, d.approved_by, d.approval_expires, share]
        if not d.violations and not d.exceptions:
            rows.append([*head, "", "", "", "", *no_exception])
        for v in d.violations:
            end = iso(v.end) or "ongoing"
            hours = f"{v.seconds / 3600:.2f}"
            rows.append([*head, v.rule_id, iso(v.start), end, hours, *no_exception])
        for x in d.exceptions:
            granted = [x.rule_id, x.scope, x.granted_by, iso(x.start), iso(x.end)]
            rows.append(
                [*head, "", "", "", "", *granted, x.revoked_by or "", x.reason, x.mitigation]
            )
    return _csv(f"evidence-{span.first}-{span.last}.csv", header, rows)


@router.get("/audit.csv")
def audit_csv(
    request: Request, session: DB, who: MaybeViewer, first: Day = None, last: Day = None
) -> Response:
    """The audit log of a period, oldest first."""
    checked = _checked(request, who, first, last)
    if isinstance(checked, Response):
        return checked
    _, span = checked
    entries = audit_entries_between(session, span.start, span.end)
    rows: list[list[object]] = [[iso(e.at), e.actor, e.action, e.target, e.detail] for e in entries]
    header = ["at", "actor", "action", "target", "detail"]
    return _csv(f"audit-{span.first}-{span.last}.csv", header, rows)
