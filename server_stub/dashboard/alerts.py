"""Dashboard page for alerts: the destinations, each delivery's state, and a failed delivery
sent again (a CSRF-checked form, audit-logged)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from server_stub.api.deps import DB, State
from server_stub.dashboard.views import whole_number
from server_stub.dashboard.web import (
    MaybeViewer,
    PostedForm,
    check_post,
    error_page,
    redirect,
    render,
    to_login,
)
from server_stub.storage.alerts import recent_alerts, recent_deliveries
from server_stub.storage.outbox import DELIVERY_STATES, counts_by_destination, retry_failed

router = APIRouter(include_in_schema=False)
LIMIT = 200
ALERTS = 50


@router.get("/alerts")
def alerts_page(
    request: Request,
    session: DB,
    state: State,
    who: MaybeViewer,
    show: Annotated[str | None, Query(alias="state")] = None,
) -> Response:
    """Destinations with their deliveries by state; the newest deliveries (or one state's)."""
    if who is None:
        return to_login(request)
    chosen = show if show in DELIVERY_STATES else None
    configured = state.settings.destinations()
    labels = {d.id: d.label for d in configured.all}
    counts = counts_by_destination(session)
    return render(
        request,
        "alerts.html",
        who,
        destinations=configured.all,
        mail=configured.mail,
        counts=counts,
        gone=sorted(set(counts) - set(labels)),
        states=DELIVERY_STATES,
        chosen=chosen,
        deliveries=recent_deliveries(session, LIMIT, chosen),
        labels=labels,
        limit=LIMIT,
        alerts=recent_alerts(session, ALERTS),
    )


@router.post("/alerts/retry")
def retry_delivery(request: Request, session: DB, who: MaybeViewer, form: PostedForm) -> Response:
    """A failed delivery goes back to the outbox with its attempts reset."""
    checked = check_post(request, who, form)
    if isinstance(checked, Response):
        return checked
    number = whole_number(form.get("delivery_id"))
    if number is None or not retry_failed(session, number, checked.name):
        return error_page(request, checked, 404, "There is no failed delivery with this number.")
    return redirect("/alerts?state=failed")
