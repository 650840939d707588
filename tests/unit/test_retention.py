"""Retention (server_stub/storage/retention.py) on a real collector database, SQLite and
PostgreSQL: old reports go in bounded batches but every device's latest stays; expired
sessions and long-spent enrolment tokens go; the settings reach every worker process."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import Engine, insert, select, update

from server_stub.cli import build_parser
from server_stub.commands import _environment_for
from server_stub.config import SettingsError, settings_from
from server_stub.storage.clock import utcnow
from server_stub.storage.retention import TOKEN_GRACE, purge
from server_stub.storage.tables import Admin, Device, EnrolmentToken, Report, WebSession

NOW = utcnow()


def add_device(engine: Engine, received_days_ago: list[int]) -> tuple[str, list[str]]:
    """A device with one report per age (days), the last of the list as its latest."""
    device_id, ids = str(uuid.uuid4()), [str(uuid.uuid4()) for _ in received_days_ago]
    with engine.begin() as connection:
        connection.execute(
            insert(Device),
            {
                "id": device_id, "name": f"d-{device_id[:8]}", "owner": "Ada",
                "department": "Press", "approved_by": "Head", "justification": "x",
                "approval_expires": date(2099, 1, 1), "registered_at": NOW,
                "state": "compliant", "failing_rules": [], "reports_received": len(ids),
                "last_report_id": ids[-1],
            },
        )  # fmt: skip
        connection.execute(
            insert(Report),
            [
                {
                    "id": report_id, "device_id": device_id,
                    "received_at": NOW - timedelta(days=age),
                    "collected_at": "2026-01-01T00:00:00Z", "source_ip": "198.51.100.7",
                    "verdict": "compliant", "body": {"n": age},
                }
                for report_id, age in zip(ids, received_days_ago, strict=True)
            ],
        )  # fmt: skip
    return device_id, ids


def report_ids(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return set(connection.scalars(select(Report.id)))


def test_old_reports_go_in_batches_and_each_devices_latest_stays(engine: Engine) -> None:
    _, busy = add_device(engine, [500, 450, 401, 399, 10, 0])
    _, silent = add_device(engine, [800, 700, 600])  # silent for 600 days: its latest stays
    purged = purge(engine, NOW, report_days=400, batch=2)
    assert purged.reports == 3 + 2
    assert report_ids(engine) == {*busy[3:], silent[-1]}
    assert purge(engine, NOW, report_days=400, batch=2).reports == 0  # idempotent


def test_retention_0_keeps_every_report(engine: Engine) -> None:
    _, ids = add_device(engine, [5000, 1])
    assert purge(engine, NOW, report_days=0).reports == 0
    assert report_ids(engine) == set(ids)


def test_expired_sessions_and_long_spent_tokens_go(engine: Engine) -> None:
    device_id, _ = add_device(engine, [0])
    with engine.begin() as connection:
        admin = connection.execute(
            insert(Admin).values(username="ada", password_hash="x", created_at=NOW)
        ).inserted_primary_key
        assert admin is not None
        sessions = [("live", NOW + timedelta(hours=1)), ("over", NOW - timedelta(seconds=1))]
        for name, expires in sessions:
            row = {"id_hash": name, "admin_id": admin[0], "csrf_token": "t", "expires_at": expires}
            connection.execute(insert(WebSession).values(**row))
        long_ago = NOW - TOKEN_GRACE - timedelta(days=1)
        tokens = {
            "unused-valid": (NOW + timedelta(days=7), None),
            "used-recently": (NOW + timedelta(days=7), NOW),
            "expired-recently": (NOW - timedelta(days=1), None),
            "used-long-ago": (long_ago, long_ago - timedelta(days=6)),
            "expired-long-ago": (long_ago, None),
        }
        for token, (expires, used) in tokens.items():
            values = {"token_hash": token, "device_id": device_id, "expires_at": expires}
            connection.execute(insert(EnrolmentToken).values(**values, used_at=used))
    purged = purge(engine, NOW, report_days=400)
    assert (purged.sessions, purged.tokens) == (1, 2)
    with engine.connect() as connection:
        assert set(connection.scalars(select(WebSession.id_hash))) == {"live"}
        kept = set(connection.scalars(select(EnrolmentToken.token_hash)))
    assert kept == {"unused-valid", "used-recently", "expired-recently"}


def test_a_report_that_becomes_the_latest_is_never_purged(engine: Engine) -> None:
    _, ids = add_device(engine, [900, 800])
    with engine.begin() as connection:  # the older one is the latest received (a spool flush)
        connection.execute(update(Device).values(last_report_id=ids[0]))
    purge(engine, NOW, report_days=30)
    assert report_ids(engine) == {ids[0]}


def test_the_retention_setting_reaches_every_worker_and_is_checked() -> None:
    args = build_parser().parse_args(["serve", "--report-retention-days", "30"])
    assert args.report_retention_days == 30
    assert settings_from(env={}).report_retention_days == 400
    for days in (0, 30):
        chosen = settings_from(report_retention_days=days, env={})
        assert settings_from(env=_environment_for(chosen)).report_retention_days == days
    limited = settings_from(env={"OUTPOST_REPORT_RATE_LIMIT": "5/second"})
    assert settings_from(env=_environment_for(limited)).report_rate_limit == "5/second"
    with pytest.raises(SettingsError, match="OUTPOST_REPORT_RETENTION_DAYS"):
        settings_from(env={"OUTPOST_REPORT_RETENTION_DAYS": "forever"})
    with pytest.raises(SettingsError, match="retention"):
        settings_from(report_retention_days=-1, env={}).check()
