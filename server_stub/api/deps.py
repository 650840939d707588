"""Request dependencies: the collector state, a database session, who is calling."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPBearer
from sqlalchemy.orm import Session

from server_stub.state import CollectorState
from server_stub.storage.admins import api_token_name, session_user
from server_stub.storage.devices import device_by_secret
from server_stub.storage.ingest import NO_SECRET, REVOKED, UNKNOWN_SECRET, Refusal
from server_stub.storage.tables import Device

SESSION_COOKIE = "outpost_session"


async def collector(request: Request) -> CollectorState:
    """async: FastAPI runs a plain def dependency in a worker thread, a hop per request."""
    state: CollectorState = request.app.state.collector
    return state


State = Annotated[CollectorState, Depends(collector)]


def db(state: State) -> Iterator[Session]:
    """One transaction per request: committed when the handler returns, else rolled back."""
    with state.sessions.begin() as session:
        yield session


# scope="function": the transaction commits when the handler returns, before the answer is
# sent, so a 2xx always means the change is stored.
DB = Annotated[Session, Depends(db, scope="function")]


def bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def _unauthorised(message: str) -> HTTPException:
    return HTTPException(401, message, headers={"WWW-Authenticate": "Bearer"})


def _refused(refusal: Refusal) -> HTTPException:
    return HTTPException(refusal.status, refusal.detail, refusal.headers)


def authenticate_device(session: Session, token: str | None) -> Device:
    """The enrolled device whose secret is the bearer token; 401 unknown, 403 revoked (the
    same answers as report ingest gives)."""
    if token is None:
        raise _refused(NO_SECRET)
    device = device_by_secret(session, token)
    if device is None:
        raise _refused(UNKNOWN_SECRET)
    if device.revoked_at is not None:
        raise _refused(REVOKED)
    return device


def current_device(request: Request, session: DB) -> Device:
    return authenticate_device(session, bearer(request))


# For the OpenAPI description only: the report route authenticates inside its own transaction.
DEVICE_SECRET = HTTPBearer(auto_error=False, description="The device secret from enrolment")


CurrentDevice = Annotated[Device, Depends(current_device)]


@dataclass(frozen=True)
class AdminIdentity:
    name: str
    csrf_token: str | None  # set for browser sessions, which must send it back on forms


def admin_identity(request: Request, session: Session) -> AdminIdentity | None:
    token = bearer(request)
    if token is not None:
        name = api_token_name(session, token)
        return AdminIdentity(f"token:{name}", None) if name else None
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        found = session_user(session, cookie)
        if found:
            return AdminIdentity(found[0], found[1])
    return None


def require_admin(request: Request, session: DB) -> AdminIdentity:
    identity = admin_identity(request, session)
    if identity is None:
        raise _unauthorised("an admin token or dashboard session is required")
    return identity


Admin = Annotated[AdminIdentity, Depends(require_admin)]


def peer(request: Request) -> str:
    return request.client.host if request.client else "0.0.0.0"


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Malformed body (not JSON, bad gzip)"},
    401: {"description": "Missing or unknown credentials"},
    403: {"description": "Revoked device, or a secret used from another machine"},
    413: {"description": "Body larger than 1 MiB (after decompression)"},
    415: {"description": "Unsupported Content-Encoding"},
    422: {"description": "Body does not match the schema; the message names the field"},
}
