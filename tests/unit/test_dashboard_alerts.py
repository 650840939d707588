"""The dashboard's Alerts page: destinations with their deliveries by state, each delivery, and
a failed one sent again (logged in, with the CSRF token, audit-logged)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from server_stub.alerting.worker import AlertWorker
from server_stub.app import worker_settings
from server_stub.storage.tables import AlertDelivery, AuditEntry
from tests.alert_receivers import WebhookReceiver, free_port
from tests.unit.test_dashboard import Env, csrf, log_in, make_env
from tests.unit.test_ingest_batch import Dev, add_device, ingest, report, sub

PORT = free_port()  # nothing listens: every delivery there fails
HOOK = f"http://127.0.0.1:{PORT}/hooks/T0SECRET#severity=high+critical"


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    yield from make_env(tmp_path, alert_webhooks=(HOOK,), alert_max_attempts=1)


def failed_delivery(env: Env) -> tuple[Dev, int]:
    dev = add_device(env.state)
    ingest(env.state, sub(dev, report(env.state, dev, pending=1)))
    worker = AlertWorker(env.state.engine, worker_settings(env.state.settings))
    assert worker.run_once() == 1
    with env.state.sessions() as session:
        [delivery] = session.scalars(select(AlertDelivery))
        assert delivery.state == "failed"
        return dev, delivery.id


def test_the_page_lists_destinations_and_a_failed_delivery(env: Env) -> None:
    dev, number = failed_delivery(env)
    log_in(env.client)
    page = env.client.get("/alerts")
    assert page.status_code == 200
    assert f"http://127.0.0.1:{PORT}/… (json)" in page.text and "T0SECRET" not in page.text
    assert "severity critical, high" in page.text
    row = re.search(rf'<tr data-delivery="{number}">(.*?)</tr>', page.text, re.S)
    assert row is not None
    assert "failed" in row.group(1) and "ConnectionError: Connection refused" in row.group(1)
    assert f'href="/devices/{dev.id}"' in row.group(1) and "Retry" in row.group(1)
    alerts = re.search(r'<table class="audit" id="alerts">(.*?)</table>', page.text, re.S)
    assert alerts is not None and "is non-compliant</a> (non_compliant)" in alerts.group(1)
    assert "1 rule(s) failing" in alerts.group(1)
    only_failed = env.client.get("/alerts?state=failed")
    assert f'data-delivery="{number}"' in only_failed.text
    assert f'data-delivery="{number}"' not in env.client.get("/alerts?state=delivered").text


def test_a_logged_out_visitor_is_sent_to_the_login_page(env: Env) -> None:
    answer = env.client.get("/alerts")
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login?next=")


def test_a_failed_delivery_is_retried_with_the_csrf_token_and_audit_logged(env: Env) -> None:
    _, number = failed_delivery(env)
    log_in(env.client)
    refused = env.client.post("/alerts/retry", data={"delivery_id": str(number)})
    assert refused.status_code == 403
    token = csrf(env.client, "/alerts")
    for bad in ("999999", "x", ""):
        answer = env.client.post("/alerts/retry", data={"delivery_id": bad, "csrf_token": token})
        assert answer.status_code == 404
    done = env.client.post("/alerts/retry", data={"delivery_id": str(number), "csrf_token": token})
    assert done.status_code == 303 and done.headers["location"] == "/alerts?state=failed"
    with env.state.sessions() as session:
        delivery = session.get(AlertDelivery, number)
        assert delivery is not None and (delivery.state, delivery.attempts) == ("pending", 0)
        entry = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
        assert entry is not None and (entry.actor, entry.action) == (
            "admin",
            "retry_alert_delivery",
        )
    # The receiver is up now: the retried delivery goes out.
    with WebhookReceiver(port=PORT) as hook:
        worker = AlertWorker(env.state.engine, worker_settings(env.state.settings))
        assert worker.run_once() == 1
        assert len(hook.wait_for(1)) == 1
    again = env.client.post("/alerts/retry", data={"delivery_id": str(number), "csrf_token": token})
    assert again.status_code == 404  # delivered: nothing to retry
