"""Answers to requests FastAPI cannot validate: the field and the problem, never the input."""

from __future__ import annotations

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from server_stub.api.guard import excerpt

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
