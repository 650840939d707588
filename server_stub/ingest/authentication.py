"""Who sent a report: the device behind its secret, or why the report is refused.

In this order: no secret, an unknown one, a revoked device, then the body's own fault, then the
checks that need both body and device (a caller without a good secret learns nothing more)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from server_stub.ingest.outcomes import (
    NO_SECRET,
    OTHER_MACHINE,
    REVOKED,
    UNKNOWN_SECRET,
    WRONG_DEVICE,
    Refused,
)
from server_stub.ingest.reading import Submission
from server_stub.storage.device_writes import DeviceRow
from server_stub.storage.devices import device_by_secret
from server_stub.storage.tables import Device


def authenticate_submission(item: Submission, devices: dict[str, DeviceRow]) -> DeviceRow | Refused:
    """The device that sent this report, among the batch's locked devices (by secret hash)."""
    if item.secret_hash is None:
        return NO_SECRET
    device = devices.get(item.secret_hash)
    if device is None:
        return UNKNOWN_SECRET
    if device.revoked_at is not None:
        return REVOKED
    if item.body_error is not None:
        return item.body_error
    assert item.report is not None
    if item.report["device_id"] != device.id:
        return WRONG_DEVICE
    hardware = item.report["host"]["hardware_id_hash"]
    if device.hardware_id_hash and hardware != device.hardware_id_hash:
        # Null included: a copied secret must not work from a machine that hides its identity.
        return OTHER_MACHINE
    return device


def authenticate_secret(session: Session, secret: str | None) -> Device | Refused:
    """The enrolled device whose secret this is, refused as a report with it would be."""
    if secret is None:
        return NO_SECRET
    device = device_by_secret(session, secret)
    if device is None:
        return UNKNOWN_SECRET
    if device.revoked_at is not None:
        return REVOKED
    return device
