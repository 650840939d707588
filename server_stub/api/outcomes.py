"""The one place where refusals become HTTP answers: each kind's status and headers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import HTTPException

from server_stub.ingest.outcomes import BodyError, RefusalKind, Refused
from server_stub.rate_limits import OverLimit
from server_stub.storage.devices import EnrolError, EnrolRefusal

UNAUTHORISED = {"WWW-Authenticate": "Bearer"}
RETRY_LATER = {"Retry-After": "30"}

Kind = RefusalKind | EnrolRefusal

ANSWERS: dict[Kind, tuple[int, Mapping[str, str] | None]] = {
    RefusalKind.NO_SECRET: (401, UNAUTHORISED),
    RefusalKind.UNKNOWN_SECRET: (401, UNAUTHORISED),
    RefusalKind.REVOKED: (403, None),
    RefusalKind.BODY_TOO_LARGE: (413, None),
    RefusalKind.UNSUPPORTED_ENCODING: (415, None),
    RefusalKind.NOT_GZIP: (400, None),
    RefusalKind.NOT_JSON: (400, None),
    RefusalKind.TOO_DEEP: (400, None),
    RefusalKind.NOT_AN_OBJECT: (422, None),
    RefusalKind.SCHEMA: (422, None),
    RefusalKind.NOT_A_TIME: (422, None),
    RefusalKind.WRONG_DEVICE: (422, None),
    RefusalKind.OTHER_MACHINE: (403, None),
    RefusalKind.ID_TAKEN: (409, None),
    RefusalKind.UNAVAILABLE: (503, RETRY_LATER),
    RefusalKind.FAILED: (500, None),
    EnrolRefusal.UNKNOWN_TOKEN: (401, None),
    EnrolRefusal.DEVICE_REVOKED: (403, None),
}


def status_of(kind: Kind) -> int:
    return ANSWERS[kind][0]


def _error(kind: Kind, detail: Any) -> HTTPException:
    status, headers = ANSWERS[kind]
    return HTTPException(status, detail, dict(headers) if headers else None)


def refused_error(refused: Refused) -> HTTPException:
    """The answer to a refusal: its message as the detail, or message and field errors."""
    if refused.errors is None:
        return _error(refused.kind, refused.message)
    errors = [{"field": e.field, "problem": e.problem} for e in refused.errors]
    return _error(refused.kind, {"message": refused.message, "errors": errors})


def body_error(exc: BodyError) -> HTTPException:
    return refused_error(exc.refused())


def enrol_error(exc: EnrolError) -> HTTPException:
    return _error(exc.kind, str(exc))


def too_many(over: OverLimit) -> HTTPException:
    """429 with the wait the agent honours (Retry-After)."""
    return HTTPException(429, over.message, {"Retry-After": str(over.retry_after_s)})


# Refusals that mean "these credentials are no good": counted against the client's address.
FAILED_CREDENTIALS = frozenset(
    {RefusalKind.NO_SECRET, RefusalKind.UNKNOWN_SECRET, EnrolRefusal.UNKNOWN_TOKEN}
)
