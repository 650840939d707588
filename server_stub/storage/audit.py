"""The audit log: every admin action, who did it and to what."""

from __future__ import annotations

from sqlalchemy.orm import Session

from server_stub.storage.clock import utcnow
from server_stub.storage.tables import AuditEntry


def record(
    session: Session, actor: str, action: str, target: str | None, detail: str | None
) -> None:
    session.add(AuditEntry(at=utcnow(), actor=actor, action=action, target=target, detail=detail))
