"""Granting and revoking an exception: its row, the audit entry and the devices it covers judged
again, in one transaction, so the dashboard shows the rule excepted (or failing) at once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from agent.policy import load_catalogue
from server_stub.ingest.evaluation import states_of_rules
from server_stub.ingest.grace import Grace
from server_stub.ingest.rejudge import lock_devices, rejudge
from server_stub.storage import exceptions
from server_stub.storage.exceptions import covered_devices
from server_stub.storage.tables import RuleException


def unexceptable(rule_id: str) -> str | None:
    """Why a rule cannot be excepted, or None. The rules whose failure is a device state
    (unapproved, stale) are set by the sweeper from the register and the clock: excepted, a
    report would make the device compliant and the next sweep unapproved again, an alert each
    way, every cycle; an approval is renewed in the register, not excepted."""
    state = states_of_rules(load_catalogue()).get(rule_id)
    if state is None:
        return None
    return (
        f"{rule_id} cannot be excepted: its failure makes the device {state}; renew the "
        "approval in the register, or get the device reporting again."
    )


def grant_exception(
    engine: Engine,
    *,
    rule_id: str,
    device_id: str | None,
    department: str | None,
    reason: str,
    mitigation: str,
    expires_at: datetime,
    actor: str,
    grace: Grace,
    now: datetime,
) -> int:
    """A new exception (for one device, or every device of a department); returns its id."""
    refused = unexceptable(rule_id)
    if refused is not None:
        raise ValueError(refused)
    with engine.begin() as connection:
        locked = lock_devices(connection, set(covered_devices(connection, device_id, department)))
        with Session(bind=connection) as session:
            granted = exceptions.grant(
                session, rule_id=rule_id, device_id=device_id, department=department,
                reason=reason, mitigation=mitigation, expires_at=expires_at, actor=actor, now=now,
            )  # fmt: skip
            session.flush()
            exception_id = granted.id
        rejudge(connection, locked, grace, now)
    return exception_id


def revoke_exception(
    engine: Engine, exception_id: int, actor: str, grace: Grace, now: datetime
) -> bool:
    """End an exception now; False when there was no such open exception."""
    with engine.begin() as connection:
        with Session(bind=connection) as session:
            row = session.get(RuleException, exception_id)
            if row is None:
                return False
            target = (row.device_id, row.department)
        locked = lock_devices(connection, set(covered_devices(connection, *target)))
        with Session(bind=connection) as session:
            if exceptions.revoke(session, exception_id, actor, now) is None:
                return False
            session.flush()
        rejudge(connection, locked, grace, now)
    return True
