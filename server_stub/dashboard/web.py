"""Dashboard plumbing: templates, security headers, the session viewer, form bodies and CSRF."""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs, quote, urlsplit

from fastapi import Depends, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import ChainableUndefined, Environment, FileSystemLoader

from server_stub.api.deps import DB, SESSION_COOKIE
from server_stub.api.request_body import read_limited
from server_stub.dashboard import filters
from server_stub.ingest.outcomes import BodyError
from server_stub.storage.admins import session_user

TEMPLATES = Path(__file__).resolve().parent / "templates"
FORM_LIMIT = 64 * 1024
MAX_FIELDS = 50
HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}

# Autoescape on for every template: device data is only ever shown as text.
ENV = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=True,
    undefined=ChainableUndefined,  # a field missing from a report renders empty, not a 500
    trim_blocks=True,
    lstrip_blocks=True,
)
ENV.filters.update(filters.FILTERS)


@dataclass(frozen=True)
class Viewer:
    """The dashboard user behind a session cookie, and their role."""

    name: str
    csrf_token: str
    session_id: str
    role: str = "admin"

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def viewer(request: Request, session: DB) -> Viewer | None:
    """Only a session cookie counts here: API tokens are for scripts, not the dashboard."""
    cookie = request.cookies.get(SESSION_COOKIE)
    found = session_user(session, cookie) if cookie else None
    if found is None or cookie is None:
        return None
    name, csrf_token, role = found
    return Viewer(name, csrf_token, cookie, role)


MaybeViewer = Annotated[Viewer | None, Depends(viewer)]


def render(
    request: Request, template: str, who: Viewer | None, status: int = 200, **context: Any
) -> HTMLResponse:
    html = ENV.get_template(template).render(request=request, viewer=who, **context)
    return HTMLResponse(html, status_code=status, headers=HEADERS)


def error_page(request: Request, who: Viewer | None, status: int, message: str) -> HTMLResponse:
    return render(request, "error.html", who, status, status_code=status, message=message)


def redirect(location: str) -> RedirectResponse:
    return RedirectResponse(location, status_code=303, headers=HEADERS)


def to_login(request: Request) -> RedirectResponse:
    """Send a logged-out browser to the login page, coming back here afterwards."""
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.method != "GET":
        here = "/"
    return redirect("/login?next=" + quote(here, safe=""))


def safe_next(value: str | None) -> str:
    """Honour only a same-site relative path: never //host, a scheme, a backslash or a CR/LF."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or parts.path in ("/login", "/logout"):
        return "/"
    return value


def secure_cookies(request: Request) -> bool:
    return bool(request.app.state.collector.settings.tls) or request.url.scheme == "https"


@dataclass(frozen=True)
class Form:
    """A parsed application/x-www-form-urlencoded body; `problem` is a status to refuse with."""

    fields: dict[str, str] = field(default_factory=dict)
    problem: int | None = None

    def get(self, key: str) -> str:
        return self.fields.get(key, "")


async def read_form(request: Request) -> Form:
    """The form body, at most 64 KiB (else 413), parsed without python-multipart."""
    try:
        body = await read_limited(request, FORM_LIMIT)
    except BodyError:
        return Form(problem=413)
    try:
        parsed = parse_qs(
            body.decode("utf-8"),
            keep_blank_values=True,
            max_num_fields=MAX_FIELDS,
            errors="strict",  # %FF is refused, not turned into U+FFFD
        )
    except ValueError:  # not UTF-8 (UnicodeDecodeError) or too many fields
        return Form(problem=400)
    fields = {key: values[0] for key, values in parsed.items()}
    # NUL reaches no database: PostgreSQL refuses it in text (a 500), and no field needs it.
    if any("\x00" in key or "\x00" in value for key, value in fields.items()):
        return Form(problem=400)
    return Form(fields)


PostedForm = Annotated[Form, Depends(read_form)]


def same_token(expected: str | None, given: str) -> bool:
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


def check_post(
    request: Request, who: Viewer | None, form: Form, admin_only: bool = True
) -> Viewer | Response:
    """The admin allowed to act, or the answer to a POST that must not: no session (to the
    login page), a body too large (413) or unreadable (400), a missing or wrong CSRF token (403),
    a viewer where only an admin may act (403).
    """
    if who is None:
        return to_login(request)
    if form.problem == 413:
        return error_page(request, who, 413, "The form is larger than 64 KiB.")
    if form.problem is not None:
        return error_page(request, who, 400, "The form could not be read.")
    if not same_token(who.csrf_token, form.get("csrf_token")):
        message = "The form did not carry this session's token. Reload the page and try again."
        return error_page(request, who, 403, message)
    if admin_only and not who.is_admin:
        message = "Viewers can read everything here but change nothing: ask an admin."
        return error_page(request, who, 403, message)
    return who
