"""Operations routes: health check and Prometheus metrics."""

from __future__ import annotations

import hmac
import logging

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from server_stub.api.deps import DB, State
from server_stub.api.outcomes import RETRY_LATER
from server_stub.storage.db import database_fault
from server_stub.storage.reads import counts_by_state

router = APIRouter(tags=["operations"])
log = logging.getLogger(__name__)


@router.get(
    "/healthz",
    responses={503: {"description": "The database does not answer; ask again later."}},
)
def healthz(state: State) -> JSONResponse:
    """200 when up and the database answers; 503 with a short reason and Retry-After when it
    does not (a load balancer takes the collector out; never a 500). A plain def: the query
    runs in a worker thread, off the event loop."""
    fault = database_fault(state.engine)
    if fault is None:
        return JSONResponse({"status": "ok"})
    # The detail goes to the log only: /healthz is public, the driver's message names hosts.
    log.warning("healthz: the database does not answer: %s", fault)
    body = {"status": "unavailable", "reason": "the database does not answer"}
    return JSONResponse(body, status_code=503, headers=dict(RETRY_LATER))


def _metrics_allowed(request: Request, token: str | None) -> bool:
    """Open when no metrics token is set; else only with `Authorization: Bearer <token>`."""
    if token is None:
        return True
    given = request.headers.get("authorization", "")
    scheme, _, value = given.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(value.strip(), token)


@router.get(
    "/metrics",
    response_class=Response,
    responses={401: {"description": "A metrics token is set and was not given."}},
)
def metrics(request: Request, session: DB, state: State) -> Response:
    """Prometheus text format: the collector's counters (every worker's, summed, under
    --workers N) and the registered devices by state."""
    if not _metrics_allowed(request, state.settings.metrics_token):
        return Response(
            "a metrics token is required (Authorization: Bearer ...)\n",
            status_code=401,
            media_type="text/plain",
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    body, content_type = state.metrics.exposition(counts_by_state(session))
    return Response(body, media_type=content_type)
