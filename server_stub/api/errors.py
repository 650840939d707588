"""Answers FastAPI would get wrong: invalid requests (never echoing the input), a database down."""

from __future__ import annotations

import logging

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from server_stub.api.guard import excerpt
from server_stub.api.outcomes import RETRY_LATER

log = logging.getLogger(__name__)

MAX_ERRORS = 10


def _field(location: tuple[object, ...] | list[object]) -> str:
    """("body", "hardware_id_hash") -> "body.hardware_id_hash"; indexes as [0]."""
    parts = [f"[{p}]" if isinstance(p, int) else f".{excerpt(str(p))}" for p in location]
    return "".join(parts).lstrip(".")


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's own handler echoes each input back (and fails with a 500 on one it cannot
    encode, like a lone surrogate): this one keeps only where and what, each message short."""
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"field": _field(e.get("loc", ())), "problem": excerpt(str(e.get("msg", "invalid")), 200)}
        for e in exc.errors()[:MAX_ERRORS]
    ]
    first = errors[0] if errors else {"field": "request", "problem": "invalid"}
    message = f"the request does not match the schema: {first['field']}: {first['problem']}"
    return JSONResponse({"detail": {"message": message, "errors": errors}}, status_code=422)


async def database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    """A database that does not answer (down, locked past its timeout) on any route: 503 with
    Retry-After, as the report route answers, so agents and load balancers wait and come back.
    The driver's text goes to the log only: the routes may be public."""
    log.error("database unavailable on %s %s: %s", request.method, request.url.path, exc)
    detail = "the database is unavailable; try again later"
    return JSONResponse({"detail": detail}, status_code=503, headers=RETRY_LATER)
