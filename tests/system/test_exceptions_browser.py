"""Exceptions in a real browser (Debian's Chromium, playwright) against a real collector
process: an admin grants an exception for a failing rule from the device page, the rule is shown
excepted (by whom, until when) and the device's next report is answered with it; the admin
revokes it and the rule fails again."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import sync_playwright

from tests.system.test_alert_delivery_system import violating
from tests.system.test_alerts_browser import MACHINE, Running
from tests.system.test_dashboard_browser import CHROMIUM, CHROMIUM_ARGS, _cli, log_in
from tests.system.test_dashboard_browser import collector as collector  # the fixture

pytestmark = pytest.mark.system


@pytest.fixture
def running(collector: str, tmp_path: Path) -> Iterator[Running]:
    yield Running(collector, tmp_path / "collector", 0)


def test_an_admin_grants_an_exception_and_the_rule_shows_excepted(running: Running) -> None:
    assert Path(CHROMIUM).exists(), "Debian's chromium package is missing (CI installs it)"
    device_id, secret = _enrol(running)
    first = _report(running, device_id, secret)
    assert first["state"] == "non_compliant" and "PATCH-002" in first["failing_rules"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(f"{running.url}/devices/{device_id}")
        assert "/login" in page.url
        log_in(page)
        row = page.locator("table.rules tr", has_text="PATCH-002")
        assert "FAIL" in row.inner_text()

        page.select_option("#exception_rule", "PATCH-002")
        page.fill("#exception_reason", "The vendor's fix ships next week")
        page.fill("#exception_mitigation", "Kept off the office network until then")
        page.fill("#exception_days", "7")
        with page.expect_navigation():
            page.get_by_role("button", name="Grant the exception").click()
        row = page.locator("table.rules tr", has_text="PATCH-002")
        assert "excepted" in row.inner_text() and "excepted by admin until" in row.inner_text()
        listed = page.locator("table.exceptions tbody tr").first.inner_text()
        assert "The vendor's fix ships next week" in listed and "holds" in listed
        failing = str(running.scalar(f"SELECT failing_rules FROM devices WHERE id = '{device_id}'"))
        assert "PATCH-002" not in failing

        answer = _report(running, device_id, secret)  # still failing: excepted for the agent
        assert answer["rule_notes"]["PATCH-002"]["status"] == "excepted"
        assert answer["rule_notes"]["PATCH-002"]["by"] == "admin"
        assert "PATCH-002" not in answer["failing_rules"]

        with page.expect_navigation():
            page.get_by_role("button", name="Revoke the exception for PATCH-002").click()
        row = page.locator("table.rules tr", has_text="PATCH-002")
        assert "FAIL" in row.inner_text() and "excepted by" not in row.inner_text()
        assert "revoked by admin" in page.locator("table.exceptions").inner_text()
        page.goto(f"{running.url}/audit")
        audit = page.inner_text("body")
        assert "exception.grant" in audit and "exception.revoke" in audit
        browser.close()


def _enrol(running: Running) -> tuple[str, str]:
    """A registered, enrolled device: its id and secret."""
    token = _cli(
        "device", "register", f"laptop-{uuid.uuid4().hex[:8]}", "--owner", "Ada",
        "--department", "Comms", "--approved-by", "Head", "--justification", "Browser test",
        "--expires", "2099-01-01", "--data-dir", str(running.data),
    )  # fmt: skip
    enrolled = requests.post(
        f"{running.url}/api/v1/enroll",
        json={"token": token, "hostname": "tt-01", "hardware_id_hash": MACHINE},
        timeout=10,
    ).json()
    return str(enrolled["device_id"]), str(enrolled["device_secret"])


def _report(running: Running, device_id: str, secret: str) -> dict[str, Any]:
    """A report with a security update pending (PATCH-002 fails), and the collector's answer."""
    report = violating(device_id, pending=1)
    report["host"]["hardware_id_hash"] = MACHINE
    answer = requests.post(
        f"{running.url}/api/v1/reports",
        json=report,
        headers={"Authorization": f"Bearer {secret}"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found
