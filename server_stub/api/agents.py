"""Agent-facing routes: enrol, send a report, fetch the policy."""

from __future__ import annotations

import email.utils
import logging
from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Header, Request, Response

from server_stub.api.deps import (
    DB,
    DEVICE_SECRET,
    ERRORS,
    CurrentDevice,
    State,
    bearer,
    peer,
)
from server_stub.api.models import EnrolRequest, EnrolResponse, ReportAccepted
from server_stub.api.outcomes import (
    FAILED_CREDENTIALS,
    body_error,
    enrol_error,
    refused_error,
    too_many,
)
from server_stub.api.request_body import read_limited
from server_stub.ingest.outcomes import BodyError, Refused
from server_stub.ingest.reading import IncomingReport
from server_stub.ingest.schema import REPORT_SCHEMA
from server_stub.network import client_address
from server_stub.state import CollectorState
from server_stub.storage.devices import EnrolError, enrol

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1", tags=["agents"], responses=ERRORS)
REPORTS_PATH = "/api/v1/reports"  # also served by api.fast_path, ahead of the router
TOO_MANY: dict[int | str, dict[str, Any]] = {
    429: {"description": "Over a rate limit; send again after Retry-After (seconds)"}
}


@router.post("/enroll", response_model=EnrolResponse, responses=TOO_MANY)
def enroll(body: EnrolRequest, request: Request, session: DB, state: State) -> EnrolResponse:
    """Exchange a one-time enrolment token for the device id and a device secret."""
    address = source_address(request, state)
    if over := state.door_limits.check_address(address):
        raise too_many(over)
    try:
        result = enrol(session, body.token, body.hostname, body.hardware_id_hash)
    except EnrolError as exc:
        state.metrics.enrolments_rejected.inc()
        if exc.kind in FAILED_CREDENTIALS:
            state.door_limits.count_failure(address)
        raise enrol_error(exc) from exc
    log.info("device %s enrolled from host %s", result.device_id, body.hostname)
    return EnrolResponse(
        device_id=result.device_id,
        device_secret=result.device_secret,
        policy_etag=state.served_policy.etag,
    )


@router.post(
    REPORTS_PATH.removeprefix("/api/v1"),
    response_model=ReportAccepted,
    # For the description only: the secret is checked with the device row, in the batch.
    dependencies=[Depends(DEVICE_SECRET)],
    responses={
        409: {"description": "The report id belongs to another device"},
        **TOO_MANY,
        503: {"description": "The database is unavailable; send again after Retry-After"},
    },
    openapi_extra={
        "parameters": [
            {
                "name": "content-encoding",
                "in": "header",
                "required": False,
                "schema": {"type": "string"},
                "description": "gzip, or none",
            }
        ],
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": REPORT_SCHEMA}},
        },
    },
)
async def post_report(request: Request) -> Response:
    """Accept one report (JSON, optionally gzip): validated, deduplicated, evaluated, stored.
    The answer exists only after the commit: a 200 means stored."""
    # The hottest route: no dependencies beyond the documented bearer scheme, and the answer
    # is encoded here rather than validated again through the response model.
    state: CollectorState = request.app.state.collector
    source_ip, secret = source_address(request, state), bearer(request)
    # Budgets first, before the body is read: a flood costs the collector as little as can be.
    if over := state.door_limits.check_address(source_ip) or state.door_limits.take_report(secret):
        state.metrics.count_report("rejected")
        raise too_many(over)
    try:
        raw = await read_limited(request, state.settings.max_body_bytes)
    except BodyError as exc:
        state.metrics.count_report("rejected")
        raise body_error(exc) from exc
    encoding = request.headers.get("content-encoding")
    incoming = IncomingReport(
        secret, raw, encoding, source_ip, sent_at(request.headers.get("date"))
    )
    answer = await state.ingest.submit(incoming)
    if isinstance(answer, Refused):
        state.metrics.count_report("rejected")
        if answer.kind in FAILED_CREDENTIALS:
            state.door_limits.count_failure(source_ip)
        raise refused_error(answer)
    state.metrics.count_report("duplicate" if answer.duplicate else "accepted")
    accepted = {
        "accepted": True,
        "duplicate": answer.duplicate,
        "state": answer.state,
        "failing_rules": answer.failing,
        "rule_notes": answer.notes,
        "policy_etag": state.served_policy.etag,
    }
    return Response(orjson.dumps(accepted), media_type="application/json")


@router.get(
    "/policy",
    response_class=Response,
    responses={
        200: {"content": {"application/toml": {}}, "description": "The policy (TOML)"},
        304: {"description": "Unchanged since the ETag given in If-None-Match"},
    },
)
def get_policy(
    device: CurrentDevice,
    state: State,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """The organisation's policy for agents to cache; answers 304 when the ETag still holds."""
    served = state.served_policy
    headers = {"ETag": served.etag, "Cache-Control": "no-cache"}
    if if_none_match and served.etag in [t.strip() for t in if_none_match.split(",")]:
        return Response(status_code=304, headers=headers)
    return Response(served.text, media_type="application/toml", headers=headers)


def source_address(request: Request, state: CollectorState) -> str:
    """The client's address: the peer, or what a trusted proxy says it forwarded for. Every
    X-Forwarded-For line counts: proxies may add their own line instead of appending."""
    forwarded = ", ".join(request.headers.getlist("x-forwarded-for")) or None
    return client_address(peer(request), forwarded, state.settings.trusted_proxies)


def sent_at(date_header: str | None) -> datetime | None:
    """The HTTP Date the agent sent ("Fri, 04 Dec 2026 21:15:00 GMT"), as UTC; None if absent
    or unreadable (the collector then judges the device's clock by the report's own time)."""
    if not date_header:
        return None
    try:
        when = email.utils.parsedate_to_datetime(date_header)
    except (TypeError, ValueError, IndexError):
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
