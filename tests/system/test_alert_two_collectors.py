"""Two `collector serve` processes on one PostgreSQL database, both delivering alerts to one
webhook: reports to either, every alert written once and sent once (the workers claim with
FOR UPDATE SKIP LOCKED), none lost."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.alert_receivers import WebhookReceiver
from tests.system import conftest
from tests.system.conftest import Collector, free_port
from tests.system.pg import PgServer, database_name
from tests.system.test_alert_delivery_system import device_with_secret, violating, wait

pytestmark = pytest.mark.system
DEVICES = 30


@pytest.fixture
def hook() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as receiver:
        yield receiver


@pytest.fixture
def pair(
    system_root: Path, pg_server: PgServer, hook: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
) -> Iterator[list[Collector]]:
    environment = conftest.clean_env
    monkeypatch.setattr(
        conftest, "clean_env", lambda: {**environment(), "OUTPOST_ALERT_POLL_S": "0.1"}
    )
    url = pg_server.create_database()
    collectors = []
    try:
        for _ in range(2):
            data = Path(tempfile.mkdtemp(prefix="collector-", dir=system_root))
            running = Collector("postgresql", data, url, free_port(), ("--alert-webhook", hook.url))
            running.start()
            collectors.append(running)
        yield collectors
    finally:
        for running in collectors:
            running.stop()
            shutil.rmtree(running.data_dir, ignore_errors=True)
        pg_server.drop_database(database_name(url))


def test_two_collectors_on_one_postgresql_send_each_alert_once(
    pair: list[Collector], hook: WebhookReceiver
) -> None:
    first, second = pair
    devices = [device_with_secret(first) for _ in range(DEVICES)]

    def report(number: int) -> None:
        device_id, auth = devices[number]
        via = pair[number % 2]
        answer = via.post_report(auth, violating(device_id, pending=1))
        assert answer.status_code == 200, answer.text

    with ThreadPoolExecutor(6) as pool:
        list(pool.map(report, range(DEVICES)))
    wait(lambda: len(set(hook.keys())) >= DEVICES, "every alert reached the webhook")
    time.sleep(1.5)  # a second copy from the other collector would have come by now
    assert first.scalar("SELECT count(*) FROM alerts") == DEVICES
    assert len(hook.received) == DEVICES and len(set(hook.keys())) == DEVICES
    assert {r.body["device"]["id"] for r in hook.received} == {d for d, _ in devices}
    assert second.scalar("SELECT count(*) FROM alert_deliveries WHERE state = 'delivered'") == (
        DEVICES
    )
