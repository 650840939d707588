"""Dashboard page for admin API tokens: the list, and revoking one (a CSRF-checked form)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from server_stub.api.deps import DB
from server_stub.dashboard.web import (
    MaybeViewer,
    PostedForm,
    check_post,
    error_page,
    redirect,
    render,
    to_login,
)
from server_stub.storage.admins import AdminError, list_api_tokens, revoke_api_token
from server_stub.storage.clock import utcnow

router = APIRouter(include_in_schema=False)


@router.get("/tokens")
def tokens_page(request: Request, session: DB, who: MaybeViewer) -> Response:
    """Every token: created, expires, last used, revoked; never the token itself."""
    if who is None:
        return to_login(request)
    return render(request, "tokens.html", who, tokens=list_api_tokens(session), now=utcnow())


@router.post("/tokens/revoke")
def revoke_token(request: Request, session: DB, who: MaybeViewer, form: PostedForm) -> Response:
    checked = check_post(request, who, form)
    if isinstance(checked, Response):
        return checked
    try:
        revoke_api_token(session, form.get("name"), checked.name)
    except AdminError:
        return error_page(request, checked, 404, "There is no token with this name.")
    return redirect("/tokens")
