"""Alerts from a real `collector serve` to a real webhook receiver and a real SMTP server
(aiosmtpd, STARTTLS and a login) on loopback: a violation reaches both; the collector SIGKILLed
in the middle of a delivery, restarted, delivers it again (the same idempotency key: the
receiver keeps one); a receiver that fails first gets it on a retry; one alert per change."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from server_stub.security import token_hash
from server_stub.storage.clock import utcnow
from server_stub.storage.tables import Device
from tests.alert_receivers import MailServer, WebhookReceiver
from tests.system import conftest
from tests.system.conftest import BACKENDS, Collector, StartCollector
from tests.unit.test_ingest_batch import HOST, OS, PROBES, stamp

pytestmark = pytest.mark.system
LEASE_S = 3  # a killed collector's claims are taken again after this


def violating(device_id: str, pending: int) -> dict[str, Any]:
    """A schema-valid report; `pending` security updates fail PATCH-002 (high)."""
    when = utcnow()
    patch = {
        "os": OS, "package_manager": "apt", "last_update_at": stamp(when - timedelta(hours=3)),
        "pending_updates": pending, "pending_security_updates": pending,
        "security_updates": ["openssl"] if pending else [], "updates_checked_at": None,
        "reboot_pending": False, "auto_updates": True, "gaps": {},
    }  # fmt: skip
    probes = {**PROBES, "patch_level": patch}
    return {
        "schema_version": 1, "report_id": str(uuid.uuid4()), "device_id": device_id,
        "agent": {"version": "0.1.0", "dropped_reports": 0}, "collected_at": stamp(when),
        "host": HOST,
        "probes": {name: {"status": "ok", "duration_ms": 5, "data": data, "error": None}
                   for name, data in probes.items()},
    }  # fmt: skip


def device_with_secret(collector: Collector) -> tuple[str, dict[str, str]]:
    registration = collector.register(owner="Grace Hopper", department="Press Office")
    secret = f"osd_{uuid.uuid4().hex}"
    with collector.engine.begin() as connection:
        connection.execute(
            update(Device)
            .where(Device.id == registration.device_id)
            .values(secret_hash=token_hash(secret))
        )
    return registration.device_id, {"Authorization": f"Bearer {secret}"}


def wait(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


@pytest.mark.parametrize("backend", BACKENDS)
def test_alerts_survive_a_collector_killed_in_the_middle_of_delivery(
    backend: str,
    start_collector: StartCollector,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with (
        WebhookReceiver() as hook,
        WebhookReceiver(fail_first=1) as flaky,
        MailServer(tmp_path) as mail,
    ):
        environment = conftest.clean_env
        monkeypatch.setattr(
            conftest,
            "clean_env",
            lambda: {
                **environment(),
                "OUTPOST_ALERT_LEASE_S": str(LEASE_S),
                "OUTPOST_ALERT_RETRY_BASE_S": "0.5",
                "SSL_CERT_FILE": str(mail.cert),  # the test mail server's certificate
            },
        )
        collector = start_collector(
            backend,
            "--alert-webhook", hook.url,
            "--alert-webhook", flaky.url + "#severity=high",
            "--alert-email", "security@example.org",
            "--smtp-url", mail.url(),
            "--public-url", "https://outpost.example.org",
        )  # fmt: skip
        device_id, auth = device_with_secret(collector)
        hook.hold.set()  # the first delivery to `hook` stays open: the collector dies in it
        collector.send(auth, violating(device_id, pending=1))
        assert hook.arrived.wait(15), collector.log_text()
        collector.stop(grace_s=0)  # SIGKILL in the middle of the delivery
        hook.hold.clear()
        hook.release.set()
        sending = collector.scalar("SELECT count(*) FROM alert_deliveries WHERE state = 'sending'")
        assert sending >= 1
        collector.start()  # its worker takes the killed one's claims once their lease ends
        wait(lambda: len(hook.received) >= 2, "the webhook got the alert again after the kill")
        mail.inbox.wait_for(1)
        wait(lambda: len(flaky.received) >= 2, "the failing receiver got it on a retry")
        wait(
            lambda: collector.scalar(
                "SELECT count(*) FROM alert_deliveries WHERE state <> 'delivered'"
            ) == 0,
            "every delivery delivered",
        )  # fmt: skip
        # One state change, one alert: every copy carries its idempotency key.
        assert collector.scalar("SELECT count(*) FROM alerts") == 1
        [key] = set(hook.keys())
        assert set(flaky.keys()) == {key}
        first = hook.received[-1].body
        assert first["idempotency_key"] == key and first["kind"] == "non_compliant"
        assert first["device"]["owner"] == "Grace Hopper"
        assert first["device"]["department"] == "Press Office"
        assert first["link"] == f"https://outpost.example.org/devices/{device_id}"
        [message] = mail.inbox.messages
        assert message["Message-ID"] == f"<{key}@outpost>"

        # Back to compliant: one more alert (low: not for the high-only receiver).
        before = len(hook.received)
        collector.send(auth, violating(device_id, pending=0))
        wait(lambda: len(hook.received) > before, "the return to compliant is alerted")
        mail.inbox.wait_for(2)
        time.sleep(1.0)  # a second copy would have come by now
        assert collector.scalar("SELECT count(*) FROM alerts") == 2
        assert hook.received[-1].body["kind"] == "compliant"
        assert len(hook.received) == before + 1 and len(set(hook.keys())) == 2
        assert len(mail.inbox.messages) == 2 and len(set(flaky.keys())) == 1
        log = collector.log_text()
        assert mail.password not in log and "T0SECRET" not in log  # a webhook's path: a secret
