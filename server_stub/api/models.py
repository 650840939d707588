"""Request and response bodies of the API (pydantic, strict: no silent coercion)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

DeviceState = Literal[
    "compliant", "non_compliant", "unknown", "stale", "unapproved", "revoked", "awaiting_enrolment"
]


class Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


# No control characters (NUL included): PostgreSQL refuses NUL in text, and no name needs them.
PRINTABLE = r"^[^\x00-\x1f\x7f]+$"
HARDWARE_ID = r"^[0-9a-f]{64}$"


class EnrolRequest(Strict):
    token: str = Field(min_length=1, max_length=200, pattern=PRINTABLE)
    hostname: str = Field(min_length=1, max_length=255, pattern=PRINTABLE)
    # Required: a secret bound to no machine could be copied anywhere (reports check it).
    hardware_id_hash: str = Field(
        pattern=HARDWARE_ID,
        description="SHA-256 (64 lowercase hex digits) of the machine's hardware id",
    )


class EnrolResponse(Strict):
    device_id: str
    device_secret: str
    policy_etag: str


class ReportAccepted(Strict):
    accepted: bool
    duplicate: bool
    state: DeviceState
    failing_rules: list[str]
    rule_notes: dict[str, dict[str, str]] = Field(
        description='Failing rules that do not count (yet): rule id -> {"status": "due" (within '
        'its grace period) or "excepted", "until" (RFC 3339), "by" (who granted the exception)}'
    )
    policy_etag: str


class DeviceSummary(Strict):
    id: str
    name: str
    owner: str
    department: str
    state: DeviceState
    last_seen_at: str | None
    approval_expires: str
    failing_rules: list[str]


class RuleOut(Strict):
    id: str
    title: str
    severity: str
    status: str
    evidence: list[str]
    remediation: str
    changed_at: str | None
    failing_since: str | None  # status fail, due or excepted: since when it has failed
    due_by: str | None  # status "due": when its grace period ends
    excepted_by: str | None  # status "excepted": who granted the exception, and until when
    excepted_until: str | None


class DeviceDetail(DeviceSummary):
    approved_by: str
    justification: str
    registered_at: str | None
    enrolled_at: str | None
    revoked_at: str | None
    hostname: str | None
    last_source_ip: str | None
    reports_received: int
    reports_refused: int
    last_refused_at: str | None
    last_refusal: str | None
    rules: list[RuleOut]
    facts: dict[str, object] | None


class EventOut(Strict):
    at: str | None
    kind: str
    rule_id: str | None
    old: str | None
    new: str
    report_id: str | None
