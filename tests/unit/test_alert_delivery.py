"""Alerts delivered by the worker to real receivers on loopback: a webhook (JSON, Slack and
Teams bodies), e-mail through aiosmtpd with STARTTLS and a login; a receiver that fails first,
one that is unreachable (failed, then retried by an admin), routing, two workers on one
PostgreSQL, and the SMTP password kept out of logs and errors."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import create_engine, select

from server_stub.alerting import worker as worker_module
from server_stub.alerting.destinations import parse
from server_stub.alerting.worker import AlertWorker, WorkerSettings
from server_stub.app import create_app
from server_stub.config import Settings
from server_stub.state import CollectorState
from server_stub.storage.clock import utcnow
from server_stub.storage.outbox import retry_failed
from server_stub.storage.tables import AlertDelivery, AuditEntry
from tests.alert_receivers import Inbox, MailServer, WebhookReceiver, free_port
from tests.system.pg import PgServer
from tests.unit.test_alert_outbox_helpers import internal
from tests.unit.test_ingest_batch import add_device, ingest, report, state, sub

__all__ = ["state"]
DASHBOARD = "https://outpost.example.org"


class Clock:
    """The worker's time, moved by the test."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now


def worker(
    st: CollectorState,
    webhooks: tuple[str, ...] = (),
    emails: tuple[str, ...] = (),
    smtp_url: str | None = None,
    mail: MailServer | None = None,
    clock: Clock | None = None,
    **options: float,
) -> AlertWorker:
    settings = WorkerSettings(
        destinations=parse(webhooks, emails, smtp_url, None),
        dashboard_url=DASHBOARD,
        tls_context=mail.client_context() if mail else None,
        **options,  # type: ignore[arg-type]
    )
    return AlertWorker(st.engine, settings, clock or Clock())


def deliveries(st: CollectorState) -> list[AlertDelivery]:
    with st.sessions() as session:
        return list(session.scalars(select(AlertDelivery).order_by(AlertDelivery.id)))


def test_a_violation_reaches_a_webhook_as_json_slack_and_teams_and_a_mailbox(
    state: CollectorState, tmp_path: Path
) -> None:
    dev = add_device(state)
    body = report(state, dev, pending=1)
    ingest(state, sub(dev, body))
    with WebhookReceiver() as hook, MailServer(tmp_path) as mail:
        urls = (hook.url, hook.url + "/slack#format=slack", hook.url + "/teams#format=teams")
        sender = worker(state, urls, ("security@example.org",), mail.url(), mail)
        assert sender.run_once() == 4
        received = {r.path.rsplit("/", 1)[-1]: r for r in hook.wait_for(3)}
        [message] = mail.inbox.wait_for(1)
    assert [d.state for d in deliveries(state)] == ["delivered"] * 4
    plain = received["T0SECRET"]
    key = plain.body["idempotency_key"]
    assert plain.headers["Idempotency-Key"] == key and set(hook.keys()) == {key}
    assert plain.body["kind"] == "non_compliant" and plain.body["severity"] == "high"
    assert plain.body["device"]["owner"] == "Ada" and plain.body["device"]["department"] == "Press"
    assert plain.body["link"] == f"{DASHBOARD}/devices/{dev.id}"
    [rule] = plain.body["rules"]
    assert rule["id"] == "PATCH-002" and "openssl" in " ".join(rule["evidence"])
    assert rule["remediation"].startswith("Install the pending security updates")
    slack = received["slack"].body
    assert "is non-compliant" in slack["text"]
    assert "Install the pending security updates" in slack["blocks"][1]["text"]["text"]
    assert DASHBOARD in slack["blocks"][2]["text"]["text"]
    card = received["teams"].body["attachments"][0]["content"]
    assert card["type"] == "AdaptiveCard"
    assert card["actions"][0]["url"] == plain.body["link"]
    assert message["Message-ID"] == f"<{key}@outpost>"
    assert message["X-Rcpt"] == "security@example.org"
    assert (
        message["Subject"].startswith("[Outpost high] ") and "non-compliant" in message["Subject"]
    )
    text = message.get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert "Owner: Ada" in text and "remedy: Install the pending security updates" in text
    assert f"Device page: {DASHBOARD}/devices/{dev.id}" in text


def test_a_receiver_that_fails_first_gets_it_later_with_backoff(state: CollectorState) -> None:
    dev = add_device(state)
    ingest(state, sub(dev, report(state, dev, pending=1)))
    clock = Clock()
    with WebhookReceiver(fail_first=2) as hook:
        sender = worker(state, (hook.url,), clock=clock, retry_base_s=2.0)
        assert sender.run_once() == 1
        [first] = deliveries(state)
        assert (first.state, first.attempts, first.last_error) == (
            "pending",
            1,
            "HTTP 503 from the webhook",
        )
        assert sender.run_once() == 0  # not yet due
        clock.now += timedelta(seconds=2)
        assert sender.run_once() == 1  # the second attempt, 503 again: wait 4 s now
        clock.now += timedelta(seconds=3)
        assert sender.run_once() == 0
        clock.now += timedelta(seconds=1)
        assert sender.run_once() == 1
        assert sender.run_once() == 0
        [done] = deliveries(state)
        assert (done.state, done.attempts, done.last_error) == ("delivered", 3, None)
        assert len(hook.received) == 3 and len(set(hook.keys())) == 1


def test_an_unreachable_webhook_fails_for_good_and_an_admin_retries_it(
    state: CollectorState, caplog: pytest.LogCaptureFixture
) -> None:
    dev = add_device(state)
    ingest(state, sub(dev, report(state, dev, pending=1)))
    port, clock = free_port(), Clock()
    url = f"http://127.0.0.1:{port}/hooks/T0SECRET"
    sender = worker(state, (url,), clock=clock, retry_base_s=1.0, max_attempts=2)
    with caplog.at_level(logging.WARNING):
        assert sender.run_once() == 1
        clock.now += timedelta(seconds=1)
        assert sender.run_once() == 1
    [failed] = deliveries(state)
    assert (failed.state, failed.attempts) == ("failed", 2)
    assert failed.last_error == "ConnectionError: Connection refused"
    assert "T0SECRET" not in caplog.text and "failed for good" in caplog.text
    with state.sessions.begin() as session:
        assert retry_failed(session, failed.id, "ada") is True
        assert retry_failed(session, failed.id, "ada") is False  # pending now, not failed
    with state.sessions() as session:
        entry = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
        assert entry is not None and (entry.actor, entry.action) == ("ada", "retry_alert_delivery")
    with WebhookReceiver(port=port) as hook:
        assert sender.run_once() == 1
        assert len(hook.wait_for(1)) == 1
    [done] = deliveries(state)
    assert (done.state, done.attempts) == ("delivered", 1)


def test_a_route_limits_a_destination_to_severities_and_departments(
    state: CollectorState,
) -> None:
    press = add_device(state)
    ingest(state, sub(press, report(state, press, pending=1)))  # high, Press
    ingest(state, sub(press, internal(report(state, press, pending=1))))  # critical, Press
    with WebhookReceiver() as hook:
        urls = (
            hook.url + "/critical#severity=critical",
            hook.url + "/finance#department=Finance",
            hook.url + "/press#department=Press&severity=high+medium",
        )
        sender = worker(state, urls)
        assert sender.run_once() == 2
        hook.wait_for(2)
    got = sorted((r.path.rsplit("/", 1)[-1], r.body["kind"]) for r in hook.received)
    assert got == [("critical", "critical_rule"), ("press", "non_compliant")]


def test_a_wrong_smtp_password_is_never_logged_nor_stored(
    state: CollectorState, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    dev = add_device(state)
    ingest(state, sub(dev, report(state, dev, pending=1)))
    with MailServer(tmp_path) as mail, caplog.at_level(logging.DEBUG):
        wrong = "Wr0ng-hunter2"
        sender = worker(state, (), ("sec@example.org",), mail.url(wrong), mail)
        assert sender.run_once() == 1
        assert mail.inbox.refused_logins >= 1 and mail.inbox.messages == []
    [delivery] = deliveries(state)
    assert delivery.state == "pending" and delivery.last_error == "SMTP 535 from the mail server"
    assert wrong not in caplog.text
    settings = Settings(tmp_path, "sqlite://", smtp_url=mail.url(wrong))
    assert wrong not in repr(settings) and wrong not in repr(settings.destinations())


def test_mail_is_not_sent_to_a_server_without_starttls(
    state: CollectorState, tmp_path: Path
) -> None:
    """smtp:// means STARTTLS: a server that does not offer it gets neither mail nor login."""
    dev = add_device(state)
    ingest(state, sub(dev, report(state, dev, pending=1)))
    inbox = Inbox()
    plain = Controller(inbox, hostname="127.0.0.1", port=free_port(), auth_require_tls=False)
    plain.start()
    try:
        sender = worker(state, (), ("sec@example.org",), f"smtp://u:p@127.0.0.1:{plain.port}")
        assert sender.run_once() == 1
    finally:
        plain.stop()
    [delivery] = deliveries(state)
    assert delivery.last_error == "the SMTP server does not offer STARTTLS"
    assert inbox.messages == []


@pytest.fixture
def pg_state(tmp_path: Path) -> Iterator[CollectorState]:
    server = PgServer()
    app = create_app(Settings(tmp_path, server.create_database()), run_sweeper=False)
    collector: CollectorState = app.state.collector
    yield collector
    collector.ingest.close()
    collector.engine.dispose()
    server.close()


def test_two_workers_on_one_postgresql_send_each_alert_once(pg_state: CollectorState) -> None:
    """Two collectors' workers claim with SKIP LOCKED: neither sends what the other holds."""
    devices = [add_device(pg_state) for _ in range(40)]
    for dev in devices:
        ingest(pg_state, sub(dev, report(pg_state, dev, pending=1)))
    with WebhookReceiver() as hook:
        workers = [worker(pg_state, (hook.url,), poll_s=0.05) for _ in range(2)]
        for each in workers:
            each.start()
        try:
            hook.wait_for(40)
            time.sleep(0.5)  # a double send would arrive now
        finally:
            for each in workers:
                each.close()
    assert len(hook.received) == 40 and len(set(hook.keys())) == 40
    assert {d.state for d in deliveries(pg_state)} == {"delivered"}
    assert {r.body["device"]["id"] for r in hook.received} == {d.id for d in devices}


def test_a_database_that_is_away_is_waited_for_not_fatal(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker's pass fails while the database cannot be reached: a warning without a
    traceback, a wait, another try; the thread lives on."""
    away = create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/none")
    monkeypatch.setattr(worker_module, "DATABASE_WAIT_S", 0.1)
    sender = AlertWorker(away, WorkerSettings(parse((), (), None, None), DASHBOARD))
    try:
        with caplog.at_level(logging.WARNING):
            sender.start()
            time.sleep(0.5)
            assert sender._thread is not None and sender._thread.is_alive()
            sender.close()
    finally:
        away.dispose()
    warnings = [r.getMessage() for r in caplog.records if "outbox cannot be reached" in r.message]
    assert len(warnings) >= 2 and "Connection refused" in warnings[0]
    assert not [r for r in caplog.records if r.exc_info]  # no traceback for a database away
