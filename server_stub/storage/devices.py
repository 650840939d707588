"""Device register: registration with approval, enrolment, revocation, authentication."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from enum import Enum

from sqlalchemy import select
from sqlalchemy.orm import Session

from server_stub.security import new_secret, token_hash
from server_stub.storage.audit import record
from server_stub.storage.clock import as_utc, utcnow
from server_stub.storage.tables import Device, EnrolmentToken, Event

# A registered device whose agent has not enrolled yet: not "unknown" (which says a check
# could not be made), just not started.
AWAITING_ENROLMENT = "awaiting_enrolment"


class RegisterError(ValueError):
    """A register operation that cannot be done (duplicate name, unknown device...)."""


@dataclass(frozen=True)
class Registration:
    device_id: str
    enrolment_token: str


def register_device(
    session: Session,
    *,
    name: str,
    owner: str,
    department: str,
    approved_by: str,
    justification: str,
    expires: date,
    token_ttl_days: int,
    actor: str,
) -> Registration:
    """Record an approved device and give a one-time enrolment token (shown once)."""
    for label, value in (
        ("name", name), ("owner", owner), ("department", department), ("approved by", approved_by),
    ):  # fmt: skip
        if not value.strip() or len(value) > 200 or any(ord(c) < 32 for c in value):
            raise RegisterError(f"{label} must be 1 to 200 printable characters")
    if len(justification) > 5000 or "\x00" in justification:
        raise RegisterError("the justification must be at most 5000 characters")
    if session.scalar(select(Device.id).where(Device.name == name)):
        raise RegisterError(f"a device named {name!r} is already registered")
    if not justification.strip():
        raise RegisterError("a justification is required")
    now = utcnow()
    device = Device(
        id=str(uuid.uuid4()),
        name=name,
        owner=owner,
        department=department,
        approved_by=approved_by,
        justification=justification,
        approval_expires=expires,
        registered_at=now,
        state=AWAITING_ENROLMENT,
        failing_rules=[],
        reports_received=0,
    )
    session.add(device)
    token = new_secret("ose_")
    session.add(
        EnrolmentToken(
            token_hash=token_hash(token),
            device_id=device.id,
            expires_at=now + timedelta(days=token_ttl_days),
        )
    )
    detail = f"owner={owner} department={department} approved_by={approved_by} expires={expires}"
    record(session, actor, "device.register", name, detail)
    return Registration(device_id=device.id, enrolment_token=token)


def new_enrolment_token(session: Session, name: str, token_ttl_days: int, actor: str) -> str:
    """A fresh one-time token for a registered device (re-enrolling a replaced machine)."""
    device = device_by_name(session, name)
    token = new_secret("ose_")
    session.add(
        EnrolmentToken(
            token_hash=token_hash(token),
            device_id=device.id,
            expires_at=utcnow() + timedelta(days=token_ttl_days),
        )
    )
    record(session, actor, "device.token", name, None)
    return token


def device_by_name(session: Session, name: str) -> Device:
    device = session.scalar(select(Device).where(Device.name == name))
    if device is None:
        raise RegisterError(f"no device named {name!r}")
    return device


def revoke_device(session: Session, name: str, actor: str) -> Device:
    device = device_by_name(session, name)
    if device.revoked_at is None:
        now = utcnow()
        device.revoked_at = now
        session.add(
            Event(device_id=device.id, at=now, kind="state", old=device.state, new="revoked")
        )
        device.state = "revoked"
        record(session, actor, "device.revoke", name, None)
    return device


class EnrolRefusal(Enum):
    """Why an enrolment was refused."""

    UNKNOWN_TOKEN = "unknown_token"  # unknown, used or expired
    DEVICE_REVOKED = "device_revoked"


class EnrolError(Exception):
    """An enrolment refused: its kind, and the message to show."""

    def __init__(self, kind: EnrolRefusal, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class Enrolment:
    device_id: str
    device_secret: str


def enrol(session: Session, token: str, hostname: str, hardware_id_hash: str | None) -> Enrolment:
    """Exchange a one-time token for the device id and a new device secret."""
    entry = session.get(EnrolmentToken, token_hash(token), with_for_update=True)
    now = utcnow()
    if entry is None or entry.used_at is not None or as_utc(entry.expires_at) < now:
        raise EnrolError(
            EnrolRefusal.UNKNOWN_TOKEN, "the enrolment token is unknown, used or expired"
        )
    device = session.get(Device, entry.device_id)
    if device is None or device.revoked_at is not None:
        raise EnrolError(EnrolRefusal.DEVICE_REVOKED, "the device was revoked")
    entry.used_at = now
    secret = new_secret("osd_")
    device.secret_hash = token_hash(secret)  # a new enrolment replaces any earlier secret
    device.enrolled_at = now
    if device.state == AWAITING_ENROLMENT:
        device.state = "unknown"  # enrolled: its first report will say
    device.hostname = hostname
    device.hardware_id_hash = hardware_id_hash
    record(session, f"device:{device.name}", "device.enrol", device.name, f"host={hostname}")
    return Enrolment(device_id=device.id, device_secret=secret)


def device_by_secret(session: Session, secret: str) -> Device | None:
    """The device holding this secret (reports find theirs locked, in storage.device_writes)."""
    return session.scalar(select(Device).where(Device.secret_hash == token_hash(secret)))
