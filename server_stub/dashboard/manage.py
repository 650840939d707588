"""Dashboard actions that change the register: register a device, revoke a device."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request, Response

from server_stub.api.deps import DB
from server_stub.dashboard import forms
from server_stub.dashboard.web import (
    MaybeViewer,
    PostedForm,
    Viewer,
    check_post,
    error_page,
    redirect,
    render,
    to_login,
)
from server_stub.storage.clock import utcnow
from server_stub.storage.devices import (
    RegisterError,
    new_enrolment_token,
    register_device,
    revoke_device,
)
from server_stub.storage.tables import Device

router = APIRouter(include_in_schema=False)


def device_url(device_id: str) -> str:
    return "/devices/" + quote(device_id, safe="")


def register_form(
    request: Request,
    who: Viewer,
    status: int,
    values: dict[str, str],
    errors: dict[str, str],
) -> Response:
    today = utcnow().date().isoformat()
    return render(
        request,
        "register.html",
        who,
        status,
        values=values,
        errors=errors,
        today=today,
        max_ttl=forms.MAX_TTL_DAYS,
    )


@router.get("/devices/new")
def register_page(request: Request, who: MaybeViewer) -> Response:
    if who is None:
        return to_login(request)
    if not who.is_admin:
        return error_page(request, who, 403, "Only an admin can register a device.")
    values = {"token_ttl_days": str(forms.DEFAULT_TTL_DAYS)}
    return register_form(request, who, 200, values, {})


@router.post("/devices/new")
def register_submit(request: Request, session: DB, who: MaybeViewer, form: PostedForm) -> Response:
    """Record the approval; show the one-time enrolment token once, with the enrol command."""
    checked = check_post(request, who, form)
    if isinstance(checked, Response):
        return checked
    entry, errors = forms.parse_registration(form, utcnow().date())
    if entry is None:
        return register_form(request, checked, 400, forms.form_values(form), errors)
    try:
        registration = register_device(
            session,
            name=entry.name,
            owner=entry.owner,
            department=entry.department,
            approved_by=entry.approved_by,
            justification=entry.justification,
            expires=entry.expires,
            token_ttl_days=entry.token_ttl_days,
            actor=checked.name,
        )
    except RegisterError as exc:
        return register_form(request, checked, 400, forms.form_values(form), {"name": str(exc)})
    server = str(request.base_url).rstrip("/")
    return render(
        request,
        "registered.html",
        checked,
        entry=entry,
        device_url=device_url(registration.device_id),
        token=registration.enrolment_token,
        command=f"agent enroll --server {server} --token {registration.enrolment_token}",
    )


@router.post("/devices/{device_id}/token")
def token_submit(
    device_id: str, request: Request, session: DB, who: MaybeViewer, form: PostedForm
) -> Response:
    """A new one-time enrolment token (a replaced laptop, a token that expired unused), shown
    once; audit-logged as `device.token`."""
    checked = check_post(request, who, form)
    if isinstance(checked, Response):
        return checked
    device = session.get(Device, device_id)
    if device is None:
        return error_page(request, checked, 404, "There is no device with this id.")
    if device.revoked_at is not None:
        return error_page(request, checked, 409, "This device is revoked: it cannot enrol again.")
    ttl = forms.token_ttl(form.get("token_ttl_days"))
    if isinstance(ttl, str):
        return error_page(request, checked, 400, ttl)
    token = new_enrolment_token(session, device.name, ttl, checked.name)
    server = str(request.base_url).rstrip("/")
    return render(
        request,
        "registered.html",
        checked,
        entry={"name": device.name, "token_ttl_days": ttl},
        device_url=device_url(device.id),
        token=token,
        command=f"agent enroll --server {server} --token {token}",
        reissued=True,
    )


@router.post("/devices/{device_id}/revoke")
def revoke_submit(
    device_id: str, request: Request, session: DB, who: MaybeViewer, form: PostedForm
) -> Response:
    """Revoke after an explicit confirmation (a checkbox, or the confirmation page)."""
    checked = check_post(request, who, form)
    if isinstance(checked, Response):
        return checked
    device = session.get(Device, device_id)
    if device is None:
        return error_page(request, checked, 404, "There is no device with this id.")
    if device.revoked_at is None:
        if form.get("confirm") != "yes":
            url = device_url(device.id) + "/revoke"
            return render(request, "confirm_revoke.html", checked, 400, device=device, action=url)
        revoke_device(session, device.name, checked.name)
    return redirect(device_url(device.id))
