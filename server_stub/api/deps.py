"""Request dependencies: the collector state, a database session, who is calling."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPBearer
from sqlalchemy.orm import Session

from server_stub.api.outcomes import UNAUTHORISED, refused_error
from server_stub.ingest.authentication import authenticate_secret
from server_stub.ingest.outcomes import Refused
from server_stub.state import CollectorState
from server_stub.storage.admins import api_token_name, session_user
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


def current_device(request: Request, session: DB) -> Device:
    """The enrolled device whose secret is the bearer token, refused as its reports would be."""
    found = authenticate_secret(session, bearer(request))
    if isinstance(found, Refused):
        raise refused_error(found)
    return found


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
        if found:  # a viewer too: the admin API only reads
            return AdminIdentity(found[0], found[1])
    return None


def require_admin(request: Request, session: DB) -> AdminIdentity:
    identity = admin_identity(request, session)
    if identity is None:
        raise HTTPException(
            401, "an admin token or dashboard session is required", headers=dict(UNAUTHORISED)
        )
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
