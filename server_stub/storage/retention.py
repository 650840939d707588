"""Retention: reports older than the retention period, expired sessions and spent enrolment
tokens are deleted, a bounded batch per short transaction.

A device's latest report is always kept (the dashboard shows its facts), however old. History
events and the audit log are kept: they are the evidence an auditor asks for, and small."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, bindparam, delete, or_, select

from server_stub.storage.tables import Device, EnrolmentToken, Report, WebSession

# Rows per transaction: each holds its locks (SQLite: the write lock) for milliseconds.
BATCH = 1000
# A spent or expired enrolment token is kept this long after its expiry (a person asking why
# an enrolment failed can still be told the token had expired), then deleted.
TOKEN_GRACE = timedelta(days=30)

_LATEST = select(Device.last_report_id).where(Device.last_report_id.is_not(None))
_OLD_REPORTS = (
    select(Report.id)
    .where(Report.received_at < bindparam("cutoff"), Report.id.not_in(_LATEST))
    .limit(bindparam("limit"))
)
_DELETE_OLD_REPORTS = delete(Report).where(Report.id.in_(_OLD_REPORTS.scalar_subquery()))


@dataclass(frozen=True)
class Purged:
    """Rows deleted by one purge."""

    reports: int
    sessions: int
    tokens: int


def purge(engine: Engine, now: datetime, report_days: int, batch: int = BATCH) -> Purged:
    """Delete what retention no longer keeps; report_days 0 keeps every report."""
    reports = 0
    if report_days > 0:
        values = {"cutoff": now - timedelta(days=report_days), "limit": batch}
        while True:
            with engine.begin() as connection:
                deleted = connection.execute(_DELETE_OLD_REPORTS, values).rowcount
            reports += deleted
            if deleted < batch:
                break
    with engine.begin() as connection:
        sessions = connection.execute(delete(WebSession).where(WebSession.expires_at < now))
        spent = or_(EnrolmentToken.used_at.is_not(None), EnrolmentToken.expires_at < now)
        old = EnrolmentToken.expires_at < now - TOKEN_GRACE
        tokens = connection.execute(delete(EnrolmentToken).where(spent, old))
    return Purged(reports, sessions.rowcount, tokens.rowcount)
