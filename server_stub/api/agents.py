"""Agent-facing routes: enrol, send a report, fetch the policy."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Request, Response
from starlette.concurrency import run_in_threadpool

from agent.policy.operations import parse_timestamp
from server_stub.api.deps import (
    DB,
    DEVICE_SECRET,
    ERRORS,
    CurrentDevice,
    State,
    authenticate_device,
    bearer,
    peer,
)
from server_stub.api.models import EnrolRequest, EnrolResponse, ReportAccepted
from server_stub.bodies import decompress, parse_json_object, read_limited
from server_stub.network import client_address
from server_stub.state import REPORT_SCHEMA, CollectorState
from server_stub.storage.clock import utcnow
from server_stub.storage.devices import EnrolError, enrol
from server_stub.storage.ingest import ReportConflict, store_report
from server_stub.storage.tables import Device

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1", tags=["agents"], responses=ERRORS)
MAX_SCHEMA_ERRORS = 10
CLOCK_SKEW = timedelta(minutes=10)  # laptops' clocks drift; a report from later is refused


@router.post("/enroll", response_model=EnrolResponse)
def enroll(body: EnrolRequest, session: DB, state: State) -> EnrolResponse:
    """Exchange a one-time enrolment token for the device id and a device secret."""
    try:
        result = enrol(session, body.token, body.hostname, body.hardware_id_hash)
    except EnrolError as exc:
        state.counters["enrolments_rejected"] += 1
        raise HTTPException(exc.status, str(exc)) from exc
    log.info("device %s enrolled from host %s", result.device_id, body.hostname)
    return EnrolResponse(
        device_id=result.device_id,
        device_secret=result.device_secret,
        policy_etag=state.served_policy.etag,
    )


def _schema_errors(state: CollectorState, report: dict[str, Any]) -> list[dict[str, str]]:
    if state.validator.is_valid(report):
        return []
    errors = sorted(state.validator.iter_errors(report), key=lambda e: list(e.instance_path))
    return [
        {"field": _json_path(e.instance_path), "problem": str(e.message)[:300]}
        for e in errors[:MAX_SCHEMA_ERRORS]
    ]


def _json_path(parts: list[str | int]) -> str:
    """["probes", "network", "data"] -> "$.probes.network.data"; list indexes as [0]."""
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts)


def _check(
    state: CollectorState, device: Device, raw: bytes, encoding: str | None
) -> dict[str, Any]:
    """Decompress, parse and validate a report body; any fault is the HTTP error to answer."""
    limit = state.settings.max_body_bytes
    report = parse_json_object(decompress(raw, encoding, limit))
    errors = _schema_errors(state, report)
    if errors:
        first = errors[0]
        message = f"report does not match schema version 1: {first['field']}: {first['problem']}"
        raise HTTPException(422, {"message": message, "errors": errors})
    try:
        collected = parse_timestamp(report["collected_at"])
    except ValueError as exc:
        raise HTTPException(422, f"$.collected_at: not a real time: {exc}") from exc
    if collected > utcnow() + CLOCK_SKEW:
        raise HTTPException(422, "$.collected_at lies in the future: the device's clock is wrong")
    if report["device_id"] != device.id:
        raise HTTPException(422, "device_id does not match the enrolled device")
    hardware = report["host"]["hardware_id_hash"]
    if device.hardware_id_hash and hardware != device.hardware_id_hash:
        # Null included: a copied secret must not work from a machine that hides its identity.
        raise HTTPException(403, "this device secret is bound to another machine")
    return report


def _accept(
    state: CollectorState, secret: str | None, raw: bytes, encoding: str | None, source_ip: str
) -> ReportAccepted:
    """In one worker thread and one database connection: authenticate (locking the device),
    validate, store, commit. The answer exists only after the commit: a 200 means stored."""
    now = utcnow()
    try:
        with state.sessions.begin() as session:
            device = authenticate_device(session, secret, lock_at=now)
            report = _check(state, device, raw, encoding)
            result = store_report(
                session, device, report, source_ip, state.served_policy.policy, now
            )
    except ReportConflict as exc:
        state.counters["reports_rejected"] += 1
        raise HTTPException(409, "this report id belongs to another device") from exc
    except HTTPException:
        state.counters["reports_rejected"] += 1
        raise
    state.counters["reports_duplicate" if result.duplicate else "reports_accepted"] += 1
    return ReportAccepted(
        accepted=True,
        duplicate=result.duplicate,
        state=result.state,  # type: ignore[arg-type]
        failing_rules=result.failing,
        policy_etag=state.served_policy.etag,
    )


@router.post(
    "/reports",
    response_model=ReportAccepted,
    dependencies=[Depends(DEVICE_SECRET)],  # documents the bearer scheme; checked in _accept
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": REPORT_SCHEMA}},
        }
    },
)
async def post_report(
    request: Request,
    state: State,
    content_encoding: Annotated[str | None, Header()] = None,
) -> ReportAccepted:
    """Accept one report (JSON, optionally gzip): validated, deduplicated, evaluated, stored."""
    try:
        raw = await read_limited(request, state.settings.max_body_bytes)
    except HTTPException:
        state.counters["reports_rejected"] += 1
        raise
    # Every X-Forwarded-For line counts: proxies may add their own line instead of appending.
    forwarded = ", ".join(request.headers.getlist("x-forwarded-for")) or None
    source_ip = client_address(peer(request), forwarded, state.settings.trusted_proxies)
    return await run_in_threadpool(
        _accept, state, bearer(request), raw, content_encoding, source_ip
    )


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
