"""Dashboard actions on rule exceptions: an admin grants one (for a device or its department,
with a reason, a mitigation and an expiry) or revokes one; both land in the audit log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from fastapi import APIRouter, Request, Response
from sqlalchemy.orm import Session

from agent.policy import Policy
from server_stub.api.deps import DB, State
from server_stub.dashboard.manage import device_url
from server_stub.dashboard.views import RULES, whole_number
from server_stub.dashboard.web import (
    Form,
    MaybeViewer,
    PostedForm,
    check_post,
    error_page,
    redirect,
)
from server_stub.ingest.exceptions import grant_exception, revoke_exception, unexceptable
from server_stub.storage import exceptions
from server_stub.storage.clock import as_utc, utcnow
from server_stub.storage.tables import Device, RuleException

router = APIRouter(include_in_schema=False)
MAX_DAYS = 365
MIN_REASON = 10
MAX_TEXT = 2000


@dataclass(frozen=True)
class Grant:
    """A valid grant form."""

    rule_id: str
    for_department: bool
    reason: str
    mitigation: str
    days: int


def grantable_rules(policy: Policy) -> list[str]:
    """The catalogue's rules an exception can be granted for, by id: judged under this policy
    (a switched-off rule never fails), and not the approval or reporting rules."""
    return sorted(
        rule_id
        for rule_id in RULES
        if (rule_id not in policy.overrides or policy.overrides[rule_id].enabled)
        and unexceptable(rule_id) is None
    )


def parse_grant(form: Form, policy: Policy) -> Grant | list[str]:
    """The grant, or what is wrong with the form, field by field."""
    problems = []
    rule_id = form.get("rule_id").strip()
    refused = unexceptable(rule_id)
    if rule_id not in RULES:
        problems.append("Choose a rule from the catalogue.")
    elif refused is not None:
        problems.append(refused)
    elif rule_id not in grantable_rules(policy):
        # It is never judged, so never fails: an exception for it would only read as one.
        problems.append(f"{rule_id} is switched off in the policy: it needs no exception.")
    scope = form.get("scope").strip() or "device"
    if scope not in ("device", "department"):
        problems.append("An exception is for this device or for its department.")
    texts = {}
    for key, label in (("reason", "Reason"), ("mitigation", "Mitigation")):
        value = form.get(key).strip()
        if len(value) < MIN_REASON:
            problems.append(f"{label}: at least {MIN_REASON} characters, in words.")
        elif len(value) > MAX_TEXT:
            problems.append(f"{label}: at most {MAX_TEXT} characters.")
        elif any(ord(c) < 0x20 and c not in "\r\n\t" for c in value):
            problems.append(f"{label} must not contain control characters.")
        texts[key] = value
    days = whole_number(form.get("days").strip())
    if days is None or not 1 <= days <= MAX_DAYS:
        problems.append(f"Expires after: a whole number of days from 1 to {MAX_DAYS}.")
    if problems or days is None:
        return problems
    return Grant(rule_id, scope == "department", texts["reason"], texts["mitigation"], days)


@router.post("/devices/{device_id}/exceptions")
def grant_submit(
    device_id: str, request: Request, session: DB, state: State, who: MaybeViewer, form: PostedForm
) -> Response:
    """Grant an exception; the device's rules are judged again before the page comes back."""
    checked = check_post(request, who, form)
    if isinstance(checked, Response):
        return checked
    device = session.get(Device, device_id)
    if device is None:
        return error_page(request, checked, 404, "There is no device with this id.")
    if device.revoked_at is not None:
        message = "This device is revoked: it reports nothing that an exception could cover."
        return error_page(request, checked, 409, message)
    grant = parse_grant(form, state.served_policy.policy)
    if isinstance(grant, list):
        return error_page(
            request, checked, 400, "The exception was not granted: " + " ".join(grant)
        )
    now = utcnow()
    department = device.department if grant.for_department else None
    # The grant writes in a transaction of its own (it locks the devices it covers, as ingest
    # does); this request's session has only read.
    grant_exception(
        state.engine, rule_id=grant.rule_id,
        device_id=None if grant.for_department else device_id, department=department,
        reason=grant.reason, mitigation=grant.mitigation,
        expires_at=_whole_minute(now + timedelta(days=grant.days)), actor=checked.name,
        grace=state.served_policy.grace, now=now,
    )  # fmt: skip
    return redirect(device_url(device_id) + "#exceptions-title")


@router.post("/exceptions/{exception_id}/revoke")
def revoke_submit(
    exception_id: str,
    request: Request,
    session: DB,
    state: State,
    who: MaybeViewer,
    form: PostedForm,
) -> Response:
    """Revoke an exception now; back to the device page the form came from."""
    checked = check_post(request, who, form)
    if isinstance(checked, Response):
        return checked
    # Text, not int: SQLite cannot bind a number past 64 bits (an OverflowError, a 500).
    number = whole_number(exception_id)
    found = None if number is None else session.get(RuleException, number)
    if found is None:
        return error_page(request, checked, 404, "There is no exception with this id.")
    back = form.get("device_id")
    revoke_exception(state.engine, found.id, checked.name, state.served_policy.grace, utcnow())
    if back and session.get(Device, back) is not None:
        return redirect(device_url(back) + "#exceptions-title")
    return redirect("/")


def _whole_minute(when: datetime) -> datetime:
    return when.replace(second=0, microsecond=0)


@dataclass(frozen=True)
class ExceptionRow:
    """An exception as the device page lists it."""

    exception: RuleException
    scope: str  # "this device" or "department <name>"
    state: str  # "holds", "expired", "revoked by <name>"
    open: bool


def exception_rows(session: Session, device: Device, now: datetime) -> list[ExceptionRow]:
    """The exceptions for this device or its department, newest first."""
    rows = []
    for found in exceptions.for_device(session, device.id, device.department):
        scope = "this device" if found.device_id else f"department {found.department}"
        if found.revoked_at is not None:
            state, open_ = f"revoked by {found.revoked_by}", False
        elif found.ended_at is not None or as_utc(found.expires_at) <= now:
            state, open_ = "expired", False
        else:
            state, open_ = "holds", True
        rows.append(ExceptionRow(found, scope, state, open_))
    return rows
