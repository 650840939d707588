"""The device register as the SOP lists it: every device not revoked."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from server_stub.sop.document import RegisterEntry
from server_stub.storage.tables import Device


def register_entries(session: Session) -> list[RegisterEntry]:
    devices = session.scalars(select(Device).where(Device.revoked_at.is_(None)))
    return [
        RegisterEntry(
            name=d.name,
            owner=d.owner,
            department=d.department,
            approved_by=d.approved_by,
            approval_expires=d.approval_expires,
            state=d.state,
        )
        for d in devices
    ]
