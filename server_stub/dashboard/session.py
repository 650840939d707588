"""Dashboard login and logout; the login form is guarded by a double-submit cookie."""

from __future__ import annotations

import math
import secrets
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from server_stub.api.deps import DB, SESSION_COOKIE, State, peer
from server_stub.dashboard.login_check import check_login
from server_stub.dashboard.web import (
    MaybeViewer,
    PostedForm,
    check_post,
    redirect,
    render,
    safe_next,
    same_token,
    secure_cookies,
)
from server_stub.network import client_address
from server_stub.storage.admins import logout
from server_stub.storage.audit import record

# Login CSRF: GET /login draws a random token and sends it twice, in a hidden field and in an
# HttpOnly, SameSite=Strict cookie scoped to /login. POST /login acts only when both are present
# and equal: another site can make a browser post the form but can neither read nor set the
# cookie (and a Strict cookie is not sent on its cross-site request), so it cannot log the
# victim in to the attacker's account. A successful login issues a new session id (no fixation).
router = APIRouter(include_in_schema=False)
LOGIN_COOKIE = "outpost_login_csrf"
LOGIN_COOKIE_SECONDS = 3600
MAX_USERNAME = 100
MAX_PASSWORD = 1024


def login_form(request: Request, status: int, next_url: str, error: str | None = None) -> Response:
    """The login page with a fresh token, given both in the form and in a Strict cookie."""
    token = secrets.token_urlsafe(32)
    response = render(
        request, "login.html", None, status, login_token=token, next_url=next_url, error=error
    )
    response.set_cookie(
        LOGIN_COOKIE,
        token,
        max_age=LOGIN_COOKIE_SECONDS,
        path="/login",
        httponly=True,
        samesite="strict",
        secure=secure_cookies(request),
    )
    return response


@router.get("/login")
def login_page(
    request: Request, who: MaybeViewer, next_url: Annotated[str | None, Query(alias="next")] = None
) -> Response:
    if who is not None:
        return redirect(safe_next(next_url))
    return login_form(request, 200, safe_next(next_url))


@router.post("/login")
async def login_submit(request: Request, state: State, form: PostedForm) -> Response:
    """Check the double-submit token, then the password; a new session cookie on success.
    async, with the password checked in its own pool (dashboard.login_check): a flood of
    logins must not take the threads the other routes run in."""
    next_url = safe_next(form.get("next"))
    if form.problem is not None:
        return login_form(request, form.problem, next_url, "The form could not be read.")
    if not same_token(request.cookies.get(LOGIN_COOKIE), form.get("login_token")):
        message = "The login form expired or did not come from this site. Please try again."
        return login_form(request, 403, next_url, message)
    username, password = form.get("username").strip(), form.get("password")
    if not (0 < len(username) <= MAX_USERNAME and 0 < len(password) <= MAX_PASSWORD):
        return login_form(request, 401, next_url, "Wrong username or password.")
    forwarded = ", ".join(request.headers.getlist("x-forwarded-for")) or None
    address = client_address(peer(request), forwarded, state.settings.trusted_proxies)
    result = await check_login(
        state.sessions, username, password, address, state.settings.session_hours
    )
    if result.retry_after > 0:
        seconds = math.ceil(result.retry_after)
        message = f"Too many failed logins. Try again in {seconds} seconds."
        response = login_form(request, 429, next_url, message)
        response.headers["Retry-After"] = str(seconds)
        return response
    found = result.session
    if found is None:
        return login_form(request, 401, next_url, "Wrong username or password.")
    response = redirect(next_url)
    response.set_cookie(
        SESSION_COOKIE,
        found[0],
        max_age=state.settings.session_hours * 3600,
        path="/",
        httponly=True,
        samesite="strict",
        secure=secure_cookies(request),
    )
    response.delete_cookie(LOGIN_COOKIE, path="/login", httponly=True, samesite="strict")
    return response


@router.post("/logout")
def logout_submit(request: Request, session: DB, who: MaybeViewer, form: PostedForm) -> Response:
    checked = check_post(request, who, form, admin_only=False)  # a viewer may log out
    if isinstance(checked, Response):
        return checked
    logout(session, checked.session_id)
    record(session, checked.name, "logout", None, None)
    response = redirect("/login")
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="strict", secure=secure_cookies(request)
    )
    return response
