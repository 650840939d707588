"""Dashboard pages that only read: fleet overview, device, policy and audit log."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse

from server_stub.api.deps import DB, State
from server_stub.dashboard import charts, views
from server_stub.dashboard.exceptions import exception_rows, grantable_rules
from server_stub.dashboard.web import MaybeViewer, error_page, render, to_login
from server_stub.storage import fleet_days, reads
from server_stub.storage.clock import as_utc, utcnow
from server_stub.storage.tables import Device

router = APIRouter(include_in_schema=False)
HISTORY_LIMIT = 200
Param = Annotated[str | None, Query()]


@router.get("/")
def overview(
    request: Request,
    session: DB,
    who: MaybeViewer,
    state: Param = None,
    q: Param = None,
    sort: Param = None,
    desc: Param = None,
    page: Param = None,
    rule: Param = None,
    severity: Param = None,
    department: Param = None,
    trend: Param = None,
) -> Response:
    """Counts by state, the trend over 30 (or 90) days, and one page of the device table
    (LIMIT/OFFSET on indexed columns)."""
    if who is None:
        return to_login(request)
    view = views.FleetView.parse(state, q, sort, desc, page, rule, severity, department)
    devices, total = reads.list_devices(session, view.query())
    counts = reads.counts_by_state(session)
    trend_days = 90 if trend == "90" else 30
    today = utcnow().date()
    first = today - timedelta(days=trend_days - 1)
    days = {**fleet_days.days_since(session, first), today: counts}  # today: as it is now
    return render(
        request,
        "overview.html",
        who,
        view=view,
        rows=views.device_rows(devices, utcnow().date()),
        total=total,
        pages=views.page_count(total),
        counts=counts,
        fleet_total=sum(counts.values()),
        states=reads.STATES,
        rules=views.RULES,
        severities=list(views.SEVERITY_ORDER),
        trend_days=trend_days,
        trend_chart=charts.fleet_trend(days, first, today),
        trend_rows=views.trend_rows(days, first, today),
        swatch=charts.swatch,
    )


@router.get("/rules")
def rules_page(request: Request, session: DB, state: State, who: MaybeViewer) -> Response:
    """Each rule in force with the devices failing it, linked to the fleet filtered by it."""
    if who is None:
        return to_login(request)
    counts = reads.rule_counts(session)
    rows = views.rules_view(state.served_policy.policy, counts)
    return render(request, "rules.html", who, rows=rows, view=views.FleetView())


@router.get("/devices/{device_id}")
def device_page(
    device_id: str, request: Request, session: DB, state: State, who: MaybeViewer
) -> Response:
    """Approval, rule results (failing first), the latest facts and the compliance timeline."""
    if who is None:
        return to_login(request)
    device = session.get(Device, device_id)
    if device is None:
        return error_page(request, who, 404, "There is no device with this id.")
    report = reads.latest_report(session, device)
    probes = views.probe_views(report)
    history = reads.history(session, device.id, limit=HISTORY_LIMIT)
    now = utcnow()
    since = max(as_utc(device.registered_at), now - timedelta(days=30))
    segments = charts.device_segments(views.state_changes(history), device.state, since, now)
    return render(
        request,
        "device.html",
        who,
        device=device,
        expired=device.approval_expires < utcnow().date(),
        rules=views.ordered_rules(reads.rule_states(session, device.id)),
        report=report,
        probes=probes,
        credentials=views.credentials_by_location(probes["credentials"].data),
        permitted=views.permitted_identities(state.served_policy.policy, report),
        events=views.timeline(history),
        history_truncated=len(history) >= HISTORY_LIMIT,
        state_chart=charts.device_timeline(segments, since, now),
        segments=segments,
        swatch=charts.swatch,
        tokens=views.token_rows(reads.enrolment_tokens(session, device.id), utcnow()),
        exceptions=exception_rows(session, device, now),
        rule_ids=grantable_rules(state.served_policy.policy),
        history_limit=HISTORY_LIMIT,
        event_text=views.event_text,
    )


@router.get("/policy")
def policy_page(request: Request, state: State, who: MaybeViewer) -> Response:
    """Each rule with the guidance it enforces, as this policy grades it, and the values."""
    if who is None:
        return to_login(request)
    policy = state.served_policy.policy
    return render(
        request,
        "policy.html",
        who,
        rules=views.policy_rules(policy),
        values=policy.values,
        source=policy.source,
        organisation=policy.organisation_name,
    )


@router.get("/favicon.ico")
def favicon() -> Response:
    """Browsers ask for it on every page that names none (an API answer, say): never a 404."""
    return RedirectResponse("/static/favicon.svg", status_code=301)


@router.get("/audit")
def audit_page(request: Request, session: DB, who: MaybeViewer, page: Param = None) -> Response:
    """Every admin action, newest first, a page at a time."""
    if who is None:
        return to_login(request)
    number = views.page_number(page)
    size = views.PAGE_SIZE
    entries = reads.audit_entries(session, limit=size + 1, offset=(number - 1) * size)
    return render(
        request,
        "audit.html",
        who,
        entries=entries[:size],
        page=number,
        has_next=len(entries) > size,
    )
