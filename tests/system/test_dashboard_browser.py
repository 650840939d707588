"""The dashboard in a real browser: Debian's Chromium, driven by playwright, against a real
collector process; hostile device data is shown as text and never runs."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Dialog, Page, sync_playwright

pytestmark = pytest.mark.system

BIN = Path(sys.executable).parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
HOSTILE = "<script>alert(1)</script>"
PASSWORD = "correct horse battery staple"


def log_in(page: Page, username: str = "admin", password: str = PASSWORD) -> None:
    """Fill the login form the page was sent to and submit it, waiting for the next page."""
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("button[type=submit]")


def _cli(*args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [str(BIN / "collector"), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.strip().splitlines()[-1]


@pytest.fixture
def collector(tmp_path: Path) -> Iterator[str]:
    data = tmp_path / "collector"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    _cli("admin", "create", "admin", "--password-stdin", "--data-dir", str(data), stdin=PASSWORD)
    process = subprocess.Popen(
        [str(BIN / "collector"), "serve", "--data-dir", str(data), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if requests.get(f"{url}/healthz", timeout=1).ok:
                    break
            except requests.ConnectionError:
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(data, ignore_errors=True)


def _hostile_device(
    url: str, data_dir: Path, owner: str = HOSTILE, host: str = HOSTILE, department: str = "Comms"
) -> str:
    """Register, enrol and report a device whose owner and host name are a script tag (unless
    told otherwise)."""
    name = f"laptop-{uuid.uuid4().hex[:8]}"
    token = _cli(
        "device", "register", name, "--owner", owner, "--department", department,
        "--approved-by", "Head", "--justification", "Browser test", "--expires", "2099-01-01",
        "--data-dir", str(data_dir),
    )  # fmt: skip
    enrolled = requests.post(
        f"{url}/api/v1/enroll",
        json={"token": token, "hostname": host, "hardware_id_hash": "ab" * 32},
        timeout=10,
    ).json()
    facts = subprocess.run(
        [str(BIN / "agent"), "facts", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env={**os.environ, "OUTPOST_STATE_DIR": str(data_dir.parent / "agent")},
    )
    report = json.loads(facts.stdout)
    report["device_id"] = enrolled["device_id"]
    report["host"]["hostname"] = host
    report["host"]["hardware_id_hash"] = "ab" * 32  # the machine it enrolled as
    answer = requests.post(
        f"{url}/api/v1/reports",
        data=gzip.compress(json.dumps(report).encode()),
        headers={
            "Authorization": f"Bearer {enrolled['device_secret']}",
            "Content-Type": "application/json",
            "Content-Encoding": "gzip",
        },
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    return name


def test_login_find_device_and_hostile_hostname_is_text(collector: str, tmp_path: Path) -> None:
    assert Path(CHROMIUM).exists(), "Debian's chromium package is missing (CI installs it)"
    name = _hostile_device(collector, tmp_path / "collector")
    dialogs: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()

        def on_dialog(dialog: Dialog) -> None:
            dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)
        page.goto(f"{collector}/")
        assert "/login" in page.url  # logged out: sent to the login page
        log_in(page)
        page.fill("input[name=q]", name)
        with page.expect_navigation():
            page.press("input[name=q]", "Enter")
        with page.expect_navigation():
            page.click(f"text={name}")
        assert "/devices/" in page.url
        body = page.inner_text("body")
        assert HOSTILE in body  # shown as text...
        assert page.locator("script").count() == 0  # ...never as a script element
        assert ("NET-001" in body and "Fix" in body) or "remed" in body.lower()
        browser.close()
    assert dialogs == []


def test_every_page_fits_a_phone_and_asks_for_no_missing_file(
    collector: str, tmp_path: Path
) -> None:
    """At 390 px wide (a phone) no page scrolls sideways (a wide table scrolls in its own box),
    and no request a page makes, the icon included, answers 404."""
    name = _hostile_device(collector, tmp_path / "collector")
    missing: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 390, "height": 844})
        page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
        # The charts are inline SVG: nothing the strict CSP blocks (it would log an error).
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(f"{collector}/login")
        log_in(page)
        with page.expect_navigation():
            page.click(f"text={name}")
        device = page.url
        for url in (f"{collector}/", device, f"{collector}/policy", f"{collector}/audit",
                    f"{collector}/devices/new", f"{collector}/tokens"):  # fmt: skip
            page.goto(url)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, f"{url} is {width} px wide at 390 px"
            if url in (f"{collector}/", device):
                assert page.locator("svg.chart rect").count() > 0, f"no chart drawn on {url}"
        icon = page.evaluate("document.querySelector('link[rel=icon]').href")
        assert requests.get(icon, timeout=10).headers["content-type"].startswith("image/svg")
        assert requests.get(f"{collector}/favicon.ico", timeout=10).status_code == 200
        browser.close()
    assert missing == [], missing
    assert errors == [], errors


SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
UPDATE_SCREENSHOTS = "OUTPOST_UPDATE_SCREENSHOTS"


def test_screenshots_of_the_dashboard_and_a_self_check(collector: str, tmp_path: Path) -> None:
    """The README's pictures, taken from the real product: the fleet, a device, the rules view
    and a self-check. Written to docs/screenshots/ with OUTPOST_UPDATE_SCREENSHOTS=1 (then
    committed), else to a temporary folder; either way every picture must be made."""
    folder = SCREENSHOTS if os.environ.get(UPDATE_SCREENSHOTS) == "1" else tmp_path / "shots"
    folder.mkdir(parents=True, exist_ok=True)
    name = _hostile_device(
        collector, tmp_path / "collector", "Ada Lovelace", "tiktok-laptop-01", "Press office"
    )
    check = subprocess.run(
        [str(BIN / "agent"), "--state-dir", str(tmp_path / "agent"), "--self-check"],
        capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "NO_COLOR": "1"},
    )  # fmt: skip
    assert check.returncode in (0, 1, 3), check.stderr
    (tmp_path / "self-check.html").write_text(
        "<!doctype html><meta charset=utf-8><body style='margin:0;background:#1d2430'>"
        "<pre style='color:#e8ecf1;font:13px/1.35 monospace;padding:16px;margin:0'>"
        + check.stdout.replace("&", "&amp;").replace("<", "&lt;")
        + "</pre>"
    )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{collector}/login")
        log_in(page)
        page.screenshot(path=str(folder / "fleet.png"))
        page.goto(f"{collector}/rules")
        page.screenshot(path=str(folder / "rules.png"))
        page.goto(f"{collector}/")
        with page.expect_navigation():
            page.click(f"text={name}")
        page.screenshot(path=str(folder / "device.png"), full_page=False)
        page.goto((tmp_path / "self-check.html").as_uri())
        page.screenshot(path=str(folder / "self-check.png"), full_page=True)
        browser.close()
    for picture in ("fleet.png", "rules.png", "device.png", "self-check.png"):
        assert (folder / picture).stat().st_size > 10_000, picture


def test_a_viewer_in_the_browser_sees_no_control_that_changes_anything(
    collector: str, tmp_path: Path
) -> None:
    data = tmp_path / "collector"
    name = _hostile_device(collector, data)
    viewer_password = "a viewer's own password"
    _cli("admin", "create", "vera", "--password-stdin", "--role", "viewer", "--data-dir",
         str(data), stdin=viewer_password)  # fmt: skip
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(f"{collector}/login")
        log_in(page, "vera", viewer_password)
        assert "(viewer: reads only)" in page.inner_text("header")
        with page.expect_navigation():
            page.click(f"text={name}")
        for url in (page.url, f"{collector}/", f"{collector}/tokens", f"{collector}/users"):
            page.goto(url)
            actions = page.eval_on_selector_all(
                "form[method=post]", "forms => forms.map(f => f.getAttribute('action'))"
            )
            assert actions == ["/logout"], (url, actions)
        answer = page.goto(f"{collector}/devices/new")
        assert answer is not None and answer.status == 403
        browser.close()


def test_rules_view_filters_and_token_reissue_in_the_browser(
    collector: str, tmp_path: Path
) -> None:
    """From the rules view to the fleet filtered by a failing rule, the filter form by
    department, and a new enrolment token issued from a device's page, clicked as a person."""
    name = _hostile_device(collector, tmp_path / "collector")  # fails, among others, ACC-001
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(f"{collector}/login")
        log_in(page)
        page.goto(f"{collector}/rules")
        row = page.locator("tr", has=page.locator("a[href='/policy#ACC-001']"))
        with page.expect_navigation():
            row.locator("a[href='/?rule=ACC-001']").click()
        assert "rule=ACC-001" in page.url
        assert page.locator(f"text={name}").count() == 1
        page.goto(f"{collector}/")
        page.fill("input[name=department]", "Nobody's department")
        with page.expect_navigation():
            page.click("form.filters button[type=submit]")
        assert "No devices match the filter" in page.inner_text("main")
        page.goto(f"{collector}/")
        with page.expect_navigation():
            page.click(f"text={name}")
        page.fill("input[name=token_ttl_days]", "2")
        with page.expect_navigation():
            page.click("text=Issue a new enrolment token")
        token = page.inner_text("pre.secret")
        assert token.startswith("ose_") and "valid for 2 days" in page.inner_text("main")
        browser.close()
