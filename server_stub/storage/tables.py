"""The collector's tables (SQLAlchemy 2); Alembic migrations create and upgrade them."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Device(Base):
    """A registered (approved) device; enrolment binds it to one machine."""

    __tablename__ = "devices"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    owner: Mapped[str] = mapped_column(String(200))
    department: Mapped[str] = mapped_column(String(200))
    approved_by: Mapped[str] = mapped_column(String(200))
    justification: Mapped[str] = mapped_column(Text)
    approval_expires: Mapped[date] = mapped_column(Date, index=True)
    registered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    secret_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    enrolled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    hostname: Mapped[str | None] = mapped_column(String(255))
    hardware_id_hash: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(20), index=True)
    failing_rules: Mapped[list[str]] = mapped_column(JSON, default=list)
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    last_source_ip: Mapped[str | None] = mapped_column(String(45))
    last_report_id: Mapped[str | None] = mapped_column(String(36))
    last_collected_at: Mapped[str | None] = mapped_column(String(40))
    reports_received: Mapped[int] = mapped_column(Integer, default=0)
    # Reports from this device that the collector refused for good (a body it cannot store, a
    # secret used from another machine...): the agent keeps them aside, and so the team sees
    # them here rather than as a silent gap in the history.
    reports_refused: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_refused_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_refusal: Mapped[str | None] = mapped_column(String(300))
    # A digest of the rule_states rows as ingest last wrote them; None when anything else
    # changed them (the sweeper), so the next report compares the rows themselves.
    rules_digest: Mapped[str | None] = mapped_column(String(32))


# The fleet table sorts names case-insensitively.
Index("ix_devices_name_lower", func.lower(Device.name))


class EnrolmentToken(Base):
    """A one-time token that lets one agent enrol as one registered device."""

    __tablename__ = "enrolment_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id"), index=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Report(Base):
    """Every accepted report, as received (deduplicated on the agent's report_id)."""

    __tablename__ = "reports"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id"))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    collected_at: Mapped[str] = mapped_column(String(40))
    source_ip: Mapped[str] = mapped_column(String(45))
    verdict: Mapped[str] = mapped_column(String(20))
    body: Mapped[dict[str, object]] = mapped_column(JSON)

    __table_args__ = (
        Index("ix_reports_device_received", "device_id", "received_at"),
        Index("ix_reports_received_at", "received_at"),
    )


class RuleState(Base):
    """The latest result of each rule for each device."""

    __tablename__ = "rule_states"

    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id"), primary_key=True)
    rule_id: Mapped[str] = mapped_column(String(20), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    severity: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(20))
    evidence: Mapped[list[str]] = mapped_column(JSON)
    remediation: Mapped[str] = mapped_column(Text)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Since when the rule has failed (status fail, due or excepted), across those three.
    failing_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Status "due": when its grace period ends and the failure makes the device non-compliant.
    due_by: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    # Status "excepted": who granted the exception and until when.
    excepted_by: Mapped[str | None] = mapped_column(String(100))
    excepted_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    # The rules view and the fleet's rule filter count failing (and unknown) rows by rule from
    # the index alone (device_id in it: no table row is read).
    __table_args__ = (Index("ix_rule_states_status_rule", "status", "rule_id", "device_id"),)


class RuleException(Base):
    """An admin's time-limited exception for one rule on one device or on a department."""

    __tablename__ = "rule_exceptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    rule_id: Mapped[str] = mapped_column(String(20))
    device_id: Mapped[str | None] = mapped_column(ForeignKey("devices.id"), index=True)
    department: Mapped[str | None] = mapped_column(String(200), index=True)
    reason: Mapped[str] = mapped_column(Text)
    mitigation: Mapped[str] = mapped_column(Text)
    granted_by: Mapped[str] = mapped_column(String(100))
    granted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_by: Mapped[str | None] = mapped_column(String(100))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # When the sweeper found it expired (and alerted, once); None while it holds.
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint(
            "(device_id IS NULL) <> (department IS NULL)", name="ck_rule_exceptions_one_target"
        ),
        Index("ix_rule_exceptions_open", "ended_at", "expires_at"),
    )


class Event(Base):
    """A change: a rule's status or the device's state, with the report that caused it."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    kind: Mapped[str] = mapped_column(String(10))  # "state" or "rule"
    rule_id: Mapped[str | None] = mapped_column(String(20))
    old: Mapped[str | None] = mapped_column(String(20))
    new: Mapped[str] = mapped_column(String(20))
    report_id: Mapped[str | None] = mapped_column(String(36))

    __table_args__ = (Index("ix_events_device_at", "device_id", "at"),)


class FleetDay(Base):
    """The fleet's devices in each state as last counted on that day (the trend chart)."""

    __tablename__ = "fleet_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    state: Mapped[str] = mapped_column(String(20), primary_key=True)
    devices: Mapped[int] = mapped_column(Integer)


class Admin(Base):
    """A dashboard user (argon2 password hash)."""

    __tablename__ = "admins"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # "admin" registers, revokes, issues tokens and manages users; "viewer" only reads.
    role: Mapped[str] = mapped_column(String(10), default="admin", server_default="admin")


class ApiToken(Base):
    """An admin API token for scripts (stored hashed)."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Written at most once a minute per token: a script polling the API costs no write each.
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class LoginFailures(Base):
    """Failed logins per key (a hashed account name, or a client address), shared by every
    worker process through the database; a success clears the account's row."""

    __tablename__ = "login_failures"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    last_failure_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class WebSession(Base):
    """A dashboard login session (cookie value stored hashed) and its CSRF token."""

    __tablename__ = "web_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    admin_id: Mapped[int] = mapped_column(ForeignKey("admins.id"))
    csrf_token: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AuditEntry(Base):
    """Every admin action: who, what, on what."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(50))
    target: Mapped[str | None] = mapped_column(String(200))
    detail: Mapped[str | None] = mapped_column(Text)


class Alert(Base):
    """An alert in the outbox: written in the transaction of the change that causes it, once
    (its key names the change), and sent by the delivery worker to each destination."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # What the alert is about, unique: "non_compliant:<device>:<report id>",
    # "approval_7d:<device>:<expiry date>"... A second writer of the same change inserts nothing.
    key: Mapped[str] = mapped_column(String(200), unique=True)
    # Sent to every destination as the idempotency key: a receiver drops a repeat.
    uid: Mapped[str] = mapped_column(String(36), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    severity: Mapped[str] = mapped_column(String(10))
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id"), index=True)
    department: Mapped[str] = mapped_column(String(200))
    # The message as it was when the change happened: device, owner, rules, evidence, remedy.
    payload: Mapped[dict[str, object]] = mapped_column(JSON)
    # False until a delivery worker has made this alert's delivery rows.
    fanned_out: Mapped[bool] = mapped_column(Boolean, default=False, index=True)


class AlertDelivery(Base):
    """One alert to one destination: pending, sending (claimed until lease_until), delivered
    or failed (attempts used up; retried from the dashboard)."""

    __tablename__ = "alert_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"))
    destination: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(10))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    claim: Mapped[str | None] = mapped_column(String(36))
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(String(300))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("alert_id", "destination", name="uq_alert_deliveries_alert_dest"),
        Index("ix_alert_deliveries_due", "state", "next_attempt_at"),
    )
