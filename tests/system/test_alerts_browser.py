"""The Alerts page in a real browser (Debian's Chromium, playwright) against a real collector:
a delivery to an unreachable webhook fails, the admin sees it and retries it, and it is
delivered once the receiver answers."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from playwright.sync_api import sync_playwright
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from tests.alert_receivers import WebhookReceiver, free_port
from tests.system.test_alert_delivery_system import violating
from tests.system.test_dashboard_browser import BIN, CHROMIUM, CHROMIUM_ARGS, PASSWORD, _cli, log_in

pytestmark = pytest.mark.system
MACHINE = "cd" * 32


@dataclass
class Running:
    url: str
    data: Path
    hook_port: int

    def scalar(self, sql: str) -> object:
        engine = create_engine(f"sqlite:///{self.data / 'collector.db'}", poolclass=NullPool)
        try:
            with engine.connect() as connection:
                return connection.execute(text(sql)).scalar()
        finally:
            engine.dispose()


@pytest.fixture
def collector(tmp_path: Path) -> Iterator[Running]:
    data, port, hook_port = tmp_path / "collector", free_port(), free_port()
    _cli("admin", "create", "admin", "--password-stdin", "--data-dir", str(data), stdin=PASSWORD)
    env = {k: v for k, v in os.environ.items() if not k.startswith("OUTPOST_")}
    env |= {"OUTPOST_ALERT_MAX_ATTEMPTS": "1", "OUTPOST_ALERT_POLL_S": "0.2"}
    hook = f"http://127.0.0.1:{hook_port}/hooks/T0SECRET"
    process = subprocess.Popen(
        [str(BIN / "collector"), "serve", "--data-dir", str(data), "--port", str(port),
         "--alert-webhook", hook],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if requests.get(f"{url}/healthz", timeout=1).ok:
                    break
            except requests.ConnectionError:
                time.sleep(0.1)
        yield Running(url, data, hook_port)
    finally:
        process.terminate()
        process.wait(timeout=20)
        shutil.rmtree(data, ignore_errors=True)


def failing_device(running: Running) -> str:
    name = f"laptop-{uuid.uuid4().hex[:8]}"
    token = _cli(
        "device", "register", name, "--owner", "Ada", "--department", "Comms",
        "--approved-by", "Head", "--justification", "Browser test", "--expires", "2099-01-01",
        "--data-dir", str(running.data),
    )  # fmt: skip
    enrolled = requests.post(
        f"{running.url}/api/v1/enroll",
        json={"token": token, "hostname": "tt-01", "hardware_id_hash": MACHINE},
        timeout=10,
    ).json()
    report = violating(enrolled["device_id"], pending=1)
    report["host"]["hardware_id_hash"] = MACHINE
    answer = requests.post(
        f"{running.url}/api/v1/reports",
        json=report,
        headers={"Authorization": f"Bearer {enrolled['device_secret']}"},
        timeout=30,
    )
    assert answer.status_code == 200 and answer.json()["state"] == "non_compliant", answer.text
    return name


def wait_for(running: Running, sql: str, expected: object) -> None:
    deadline = time.monotonic() + 20
    while running.scalar(sql) != expected:
        assert time.monotonic() < deadline, f"{sql} never gave {expected!r}"
        time.sleep(0.1)


def test_an_admin_sees_a_failed_delivery_and_retries_it(collector: Running) -> None:
    assert Path(CHROMIUM).exists(), "Debian's chromium package is missing (CI installs it)"
    name = failing_device(collector)
    wait_for(collector, "SELECT state FROM alert_deliveries", "failed")
    with WebhookReceiver(port=collector.hook_port) as hook, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(f"{collector.url}/alerts")
        assert "/login" in page.url
        log_in(page)
        assert page.url.endswith("/alerts")
        row = page.locator("#deliveries tbody tr").first
        assert row.locator(".delivery-state").inner_text().startswith("failed")
        assert f"{name} is non-compliant" in row.inner_text()
        assert "Connection refused" in row.inner_text()
        assert "T0SECRET" not in page.inner_text("body")  # the webhook's path is its secret
        with page.expect_navigation():
            row.get_by_role("button", name="Retry").click()
        assert page.url.endswith("/alerts?state=failed")
        hook.wait_for(1)
        wait_for(collector, "SELECT state FROM alert_deliveries", "delivered")
        page.goto(f"{collector.url}/alerts")
        state = page.locator("#deliveries tbody tr").first.locator(".delivery-state")
        assert state.inner_text().startswith("delivered")
        page.goto(f"{collector.url}/audit")
        assert "retry_alert_delivery" in page.inner_text("body")
        browser.close()
    assert [r.body["device"]["name"] for r in hook.received] == [name]
