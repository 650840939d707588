"""Agent-facing routes: enrol, send a report, fetch the policy."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Request, Response

from server_stub.api.deps import DB, ERRORS, CurrentDevice, State, peer
from server_stub.api.models import EnrolRequest, EnrolResponse, ReportAccepted
from server_stub.bodies import decompress, parse_json_object, read_limited
from server_stub.network import client_address
from server_stub.storage.clock import utcnow
from server_stub.storage.devices import EnrolError, enrol
from server_stub.storage.ingest import ReportConflict, store_report

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1", tags=["agents"], responses=ERRORS)
MAX_SCHEMA_ERRORS = 10


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


def _schema_errors(state: State, report: dict[str, object]) -> list[dict[str, str]]:
    errors = sorted(state.validator.iter_errors(report), key=lambda e: list(e.path))
    return [{"field": e.json_path, "problem": e.message[:300]} for e in errors[:MAX_SCHEMA_ERRORS]]


@router.post(
    "/reports",
    response_model=ReportAccepted,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    },
)
async def post_report(
    request: Request,
    device: CurrentDevice,
    session: DB,
    state: State,
    content_encoding: Annotated[str | None, Header()] = None,
) -> ReportAccepted:
    """Accept one report (JSON, optionally gzip): validated, deduplicated, evaluated, stored."""
    limit = state.settings.max_body_bytes
    try:
        body = decompress(await read_limited(request, limit), content_encoding, limit)
        report = parse_json_object(body)
        errors = _schema_errors(state, report)
        if errors:
            first = errors[0]
            raise HTTPException(
                422,
                {
                    "message": f"report does not match schema version 1: {first['field']}: "
                    f"{first['problem']}",
                    "errors": errors,
                },
            )
        if report.get("device_id") != device.id:
            raise HTTPException(422, "device_id does not match the enrolled device")
        host = report["host"]
        hardware = host.get("hardware_id_hash") if isinstance(host, dict) else None
        if device.hardware_id_hash and hardware and hardware != device.hardware_id_hash:
            raise HTTPException(403, "this device secret was enrolled on another machine")
    except HTTPException:
        state.counters["reports_rejected"] += 1
        raise
    source_ip = client_address(
        peer(request), request.headers.get("x-forwarded-for"), state.settings.trusted_proxies
    )
    try:
        result = store_report(
            session, device, report, source_ip, state.served_policy.policy, utcnow()
        )
    except ReportConflict as exc:
        state.counters["reports_rejected"] += 1
        raise HTTPException(409, "this report id belongs to another device") from exc
    state.counters["reports_duplicate" if result.duplicate else "reports_accepted"] += 1
    return ReportAccepted(
        accepted=True,
        duplicate=result.duplicate,
        state=result.state,  # type: ignore[arg-type]
        failing_rules=result.failing,
        policy_etag=state.served_policy.etag,
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
