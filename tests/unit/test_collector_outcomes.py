"""api.outcomes, the one place refusals become HTTP answers: every kind has its status and
headers, and the detail is the message (with the field errors of a schema violation)."""

from __future__ import annotations

import pytest

from server_stub.api.outcomes import ANSWERS, enrol_error, refused_error, status_of
from server_stub.ingest import outcomes
from server_stub.ingest.outcomes import FieldError, RefusalKind, Refused
from server_stub.storage.devices import EnrolError, EnrolRefusal

BEARER = {"WWW-Authenticate": "Bearer"}

# Written out here, not derived from api.outcomes: this is what agents are promised.
EXPECTED: list[tuple[RefusalKind | EnrolRefusal, int, dict[str, str] | None]] = [
    (RefusalKind.NO_SECRET, 401, BEARER),
    (RefusalKind.UNKNOWN_SECRET, 401, BEARER),
    (RefusalKind.REVOKED, 403, None),
    (RefusalKind.BODY_TOO_LARGE, 413, None),
    (RefusalKind.UNSUPPORTED_ENCODING, 415, None),
    (RefusalKind.NOT_GZIP, 400, None),
    (RefusalKind.NOT_JSON, 400, None),
    (RefusalKind.TOO_DEEP, 400, None),
    (RefusalKind.NOT_AN_OBJECT, 422, None),
    (RefusalKind.SCHEMA, 422, None),
    (RefusalKind.NOT_A_TIME, 422, None),
    (RefusalKind.WRONG_DEVICE, 422, None),
    (RefusalKind.OTHER_MACHINE, 403, None),
    (RefusalKind.ID_TAKEN, 409, None),
    (RefusalKind.UNAVAILABLE, 503, {"Retry-After": "30"}),
    (RefusalKind.FAILED, 500, None),
    (EnrolRefusal.UNKNOWN_TOKEN, 401, None),
    (EnrolRefusal.DEVICE_REVOKED, 403, None),
]


def test_every_kind_is_mapped_and_expected() -> None:
    kinds = [*RefusalKind, *EnrolRefusal]
    assert set(ANSWERS) == set(kinds)
    assert [kind for kind, _, _ in EXPECTED] == kinds


@pytest.mark.parametrize(
    ("kind", "status", "headers"), EXPECTED, ids=[kind.name for kind, _, _ in EXPECTED]
)
def test_each_kind_has_its_status_and_headers(
    kind: RefusalKind | EnrolRefusal, status: int, headers: dict[str, str] | None
) -> None:
    assert status_of(kind) == status
    if isinstance(kind, RefusalKind):
        error = refused_error(Refused(kind, "why"))
    else:
        error = enrol_error(EnrolError(kind, "why"))
    assert (error.status_code, error.headers, error.detail) == (status, headers, "why")


def test_a_schema_violation_lists_its_fields_after_the_message() -> None:
    errors = (FieldError("$.host", "'hostname' is a required property"), FieldError("$", "x"))
    error = refused_error(Refused(RefusalKind.SCHEMA, "report does not match", errors))
    assert error.detail == {
        "message": "report does not match",
        "errors": [
            {"field": "$.host", "problem": "'hostname' is a required property"},
            {"field": "$", "problem": "x"},
        ],
    }
    assert list(error.detail) == ["message", "errors"]  # the JSON's key order on the wire


def test_the_fixed_refusals_keep_their_messages() -> None:
    """The texts agents and operators see (tests/system pins them on the wire too)."""
    assert {r.kind: r.message for r in vars(outcomes).values() if isinstance(r, Refused)} == {
        RefusalKind.NO_SECRET: "a device secret is required (Authorization: Bearer ...)",
        RefusalKind.UNKNOWN_SECRET: "unknown device secret",
        RefusalKind.REVOKED: "this device has been revoked",
        RefusalKind.WRONG_DEVICE: "device_id does not match the enrolled device",
        RefusalKind.OTHER_MACHINE: "this device secret is bound to another machine",
        RefusalKind.ID_TAKEN: "this report id belongs to another device",
        RefusalKind.UNAVAILABLE: "the database is unavailable; send again later",
        RefusalKind.FAILED: "the report could not be stored",
    }
