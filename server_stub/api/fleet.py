"""Admin read API: devices, a device, its history, the audit CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Response
from fastapi.responses import StreamingResponse
from sqlalchemy import Engine

from agent.policy.model import Severity
from server_stub.api.deps import DB, ERRORS, Admin, State
from server_stub.api.models import DeviceDetail, DeviceState, DeviceSummary, EventOut, RuleOut
from server_stub.spreadsheet import safe_cell
from server_stub.storage import reads
from server_stub.storage.clock import iso
from server_stub.storage.tables import Device

router = APIRouter(prefix="/api/v1", tags=["fleet"], responses=ERRORS)
# Documented as printable: api.guard refuses control characters (NUL above all) in any path.
DeviceId = Annotated[str, Path(max_length=100, pattern=r"^[^\x00-\x1f\x7f]+$")]


def _device(session: DB, device_id: DeviceId) -> Device:
    device = session.get(Device, device_id)
    if device is None:
        raise HTTPException(404, "no such device")
    return device


@router.get("/devices", response_model=list[DeviceSummary])
def list_devices(
    session: DB,
    admin: Admin,
    response: Response,
    state: DeviceState | None = None,
    q: Annotated[str | None, Query(max_length=100, pattern=r"^[^\x00-\x1f\x7f]*$")] = None,
    sort: Annotated[str, Query(pattern="^(name|state|last_seen|approval_expires)$")] = "name",
    desc: bool = False,
    limit: Annotated[int, Query(ge=1, le=reads.MAX_PAGE)] = 100,
    offset: Annotated[int, Query(ge=0, le=reads.MAX_OFFSET)] = 0,
    rule: Annotated[str | None, Query(pattern=r"^[A-Z]+-[0-9]{3}$")] = None,
    severity: Severity | None = None,
    department: Annotated[str | None, Query(max_length=100, pattern=r"^[^\x00-\x1f\x7f]*$")] = None,
) -> list[DeviceSummary]:
    """Registered devices, filtered (state, search, a failing rule, a failing severity, a
    department) and paginated; X-Total-Count gives the full count."""
    query = reads.DeviceQuery(
        state, q, sort, desc, limit, offset, rule=rule, severity=severity, department=department
    )
    devices, total = reads.list_devices(session, query)
    response.headers["X-Total-Count"] = str(total)
    return [DeviceSummary(**reads.device_summary(d)) for d in devices]


@router.get("/devices/{device_id}", response_model=DeviceDetail, responses={404: {}})
def get_device(device_id: DeviceId, session: DB, admin: Admin) -> DeviceDetail:
    """One device: approval, the latest rule results with evidence, the latest facts."""
    device = _device(session, device_id)
    rules = [
        RuleOut(
            id=r.rule_id,
            title=r.title,
            severity=r.severity,
            status=r.status,
            evidence=list(r.evidence),
            remediation=r.remediation,
            changed_at=iso(r.changed_at),
            failing_since=iso(r.failing_since),
            due_by=iso(r.due_by),
            excepted_by=r.excepted_by,
            excepted_until=iso(r.excepted_until),
        )
        for r in reads.rule_states(session, device.id)
    ]
    return DeviceDetail(
        **reads.device_summary(device),
        approved_by=device.approved_by,
        justification=device.justification,
        registered_at=iso(device.registered_at),
        enrolled_at=iso(device.enrolled_at),
        revoked_at=iso(device.revoked_at),
        hostname=device.hostname,
        last_source_ip=device.last_source_ip,
        reports_received=device.reports_received,
        reports_refused=device.reports_refused,
        last_refused_at=iso(device.last_refused_at),
        last_refusal=device.last_refusal,
        rules=rules,
        facts=reads.latest_report(session, device),
    )


@router.get("/devices/{device_id}/history", response_model=list[EventOut], responses={404: {}})
def get_history(device_id: DeviceId, session: DB, admin: Admin) -> list[EventOut]:
    """Every change of the device's state and of each rule's status, newest first."""
    device = _device(session, device_id)
    return [
        EventOut(
            at=iso(e.at),
            kind=e.kind,
            rule_id=e.rule_id,
            old=e.old,
            new=e.new,
            report_id=e.report_id,
        )
        for e in reads.history(session, device.id)
    ]


CSV_COLUMNS = [
    "name", "owner", "department", "approved_by", "approval_expires", "state",
    "failing_rules", "last_seen_at", "reports_received", "revoked_at", "reports_refused",
]  # fmt: skip


@router.get(
    "/compliance.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "One row per device"}},
)
def compliance_csv(state: State, admin: Admin) -> StreamingResponse:
    """The fleet's compliance for audits: approval, state and failing rules per device,
    streamed a batch of rows at a time (constant memory at any fleet size)."""
    return StreamingResponse(
        _csv_lines(state.engine),
        media_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="compliance.csv"'},
    )


def _csv_lines(engine: Engine) -> Iterator[str]:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for count, d in enumerate(reads.stream_devices(engine), start=1):
        row = [
            d.name, d.owner, d.department, d.approved_by, d.approval_expires.isoformat(),
            d.state, " ".join(d.failing_rules or []), iso(d.last_seen_at), d.reports_received,
            iso(d.revoked_at), d.reports_refused,
        ]  # fmt: skip
        writer.writerow([safe_cell(v) for v in row])
        if count % 1000 == 0:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()
