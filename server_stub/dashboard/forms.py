"""Validation of the register-device form: every problem named beside its field."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from server_stub.dashboard.views import whole_number
from server_stub.dashboard.web import Form

TEXT_FIELDS = {  # field -> (label, max length)
    "name": ("Device name", 200),
    "owner": ("Owner", 200),
    "department": ("Department", 200),
    "approved_by": ("Approved by", 200),
    "justification": ("Justification", 4000),
}
MIN_JUSTIFICATION = 10
MAX_TTL_DAYS = 90
DEFAULT_TTL_DAYS = 7


@dataclass(frozen=True)
class Registration:
    """A valid register form."""

    name: str
    owner: str
    department: str
    approved_by: str
    justification: str
    expires: date
    token_ttl_days: int


def _printable(text: str, multiline: bool) -> bool:
    allowed = "\r\n\t" if multiline else ""
    return not any((ord(c) < 0x20 and c not in allowed) or ord(c) == 0x7F for c in text)


def _text_errors(values: dict[str, str]) -> dict[str, str]:
    errors = {}
    for key, (label, limit) in TEXT_FIELDS.items():
        value = values[key]
        if not value:
            errors[key] = f"{label} is required."
        elif len(value) > limit:
            errors[key] = f"{label} must be at most {limit} characters."
        elif not _printable(value, multiline=key == "justification"):
            errors[key] = f"{label} must not contain control characters."
    justification = values["justification"]
    if "justification" not in errors and len(justification) < MIN_JUSTIFICATION:
        errors["justification"] = (
            f"Give a real justification (at least {MIN_JUSTIFICATION} characters): "
            "why this use is approved."
        )
    return errors


def _expiry(text: str, today: date) -> date | str:
    try:
        expires = date.fromisoformat(text)
    except ValueError:
        return "Approval expiry must be a date (YYYY-MM-DD)."
    if expires < today:
        return "Approval expiry must be today or later."
    return expires


def token_ttl(text: str) -> int | str:
    """Days a new enrolment token stays valid, or the message that says what is wrong."""
    return _ttl(text.strip())


def _ttl(text: str) -> int | str:
    if not text:
        return DEFAULT_TTL_DAYS
    days = whole_number(text)
    if days is None or not 1 <= days <= MAX_TTL_DAYS:
        return f"Token validity must be a whole number of days from 1 to {MAX_TTL_DAYS}."
    return days


def parse_registration(form: Form, today: date) -> tuple[Registration | None, dict[str, str]]:
    """The registration, or None and a message per field."""
    values = {key: form.get(key).strip() for key in TEXT_FIELDS}
    errors = _text_errors(values)
    expires = _expiry(form.get("expires").strip(), today)
    if isinstance(expires, str):
        errors["expires"] = expires
    ttl = _ttl(form.get("token_ttl_days").strip())
    if isinstance(ttl, str):
        errors["token_ttl_days"] = ttl
    if errors or isinstance(expires, str) or isinstance(ttl, str):
        return None, errors
    registration = Registration(
        name=values["name"],
        owner=values["owner"],
        department=values["department"],
        approved_by=values["approved_by"],
        justification=values["justification"],
        expires=expires,
        token_ttl_days=ttl,
    )
    return registration, errors


def form_values(form: Form) -> dict[str, str]:
    """What the admin typed, to show again beside the errors (escaped by the template)."""
    keys = [*TEXT_FIELDS, "expires", "token_ttl_days"]
    return {key: form.get(key) for key in keys}
