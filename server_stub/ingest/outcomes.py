"""What ingest answers: a report Accepted, or Refused with a kind, a message and field errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class RefusalKind(Enum):
    """Why a report (or a device secret) was refused; the API gives each kind its status."""

    NO_SECRET = "no_secret"
    UNKNOWN_SECRET = "unknown_secret"
    REVOKED = "revoked"
    BODY_TOO_LARGE = "body_too_large"
    UNSUPPORTED_ENCODING = "unsupported_encoding"
    NOT_GZIP = "not_gzip"
    NOT_JSON = "not_json"
    TOO_DEEP = "too_deep"
    NOT_AN_OBJECT = "not_an_object"
    SCHEMA = "schema"
    NOT_A_TIME = "not_a_time"
    # No longer given: a device's clock is judged by a rule, never refused (kept while
    # api/outcomes.py still lists its answer).
    WRONG_DEVICE = "wrong_device"
    OTHER_MACHINE = "other_machine"
    ID_TAKEN = "id_taken"
    UNAVAILABLE = "unavailable"
    FAILED = "failed"


# Refusals of a report from an authenticated device, for a fault of its own: the agent cannot
# send it again, so each is counted on the device and shown, never a silent gap in its history.
DEVICE_FAULTS = frozenset(
    {
        RefusalKind.BODY_TOO_LARGE,
        RefusalKind.UNSUPPORTED_ENCODING,
        RefusalKind.NOT_GZIP,
        RefusalKind.NOT_JSON,
        RefusalKind.TOO_DEEP,
        RefusalKind.NOT_AN_OBJECT,
        RefusalKind.SCHEMA,
        RefusalKind.NOT_A_TIME,
        RefusalKind.WRONG_DEVICE,
        RefusalKind.OTHER_MACHINE,
        RefusalKind.ID_TAKEN,
    }
)


@dataclass(frozen=True)
class FieldError:
    """One schema violation: where in the report ("$.host.hostname") and what is wrong."""

    field: str
    problem: str


@dataclass(frozen=True)
class Refused:
    """A report that was not stored, and why; `errors` lists schema violations (SCHEMA only)."""

    kind: RefusalKind
    message: str
    errors: tuple[FieldError, ...] | None = None


@dataclass(frozen=True)
class Accepted:
    """A stored report (or a resend of one): the state it left its device in."""

    duplicate: bool
    state: str
    failing: list[str]
    # Failing rules that do not count: rule id -> {"status": "due" or "excepted", "until",
    # and "by" for an exception}. Empty for a resend.
    notes: dict[str, dict[str, str]] = field(default_factory=dict)


Outcome = Accepted | Refused


class BodyError(Exception):
    """A body that is no acceptable report: too large, badly encoded, not a JSON object, not
    of the schema, not a real time..."""

    def __init__(
        self, kind: RefusalKind, message: str, errors: tuple[FieldError, ...] | None = None
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.errors = errors

    def refused(self) -> Refused:
        return Refused(self.kind, self.message, self.errors)


# The refusals whose message never changes; a body's fault carries its own message.
NO_SECRET = Refused(
    RefusalKind.NO_SECRET, "a device secret is required (Authorization: Bearer ...)"
)
UNKNOWN_SECRET = Refused(RefusalKind.UNKNOWN_SECRET, "unknown device secret")
REVOKED = Refused(RefusalKind.REVOKED, "this device has been revoked")
WRONG_DEVICE = Refused(RefusalKind.WRONG_DEVICE, "device_id does not match the enrolled device")
OTHER_MACHINE = Refused(RefusalKind.OTHER_MACHINE, "this device secret is bound to another machine")
ID_TAKEN = Refused(RefusalKind.ID_TAKEN, "this report id belongs to another device")
UNAVAILABLE = Refused(RefusalKind.UNAVAILABLE, "the database is unavailable; send again later")
FAILED = Refused(RefusalKind.FAILED, "the report could not be stored")
