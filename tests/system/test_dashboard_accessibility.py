"""Every dashboard page against axe-core (WCAG 2.2 A and AA rules), in Debian's Chromium, on a
real collector with a device that has reported: 0 violations, as the charts and views grow."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import sync_playwright

from tests.system.test_dashboard_browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    _hostile_device,
    collector,  # noqa: F401 - the fixture
    log_in,
)

pytestmark = pytest.mark.system
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
PAGES = ["/", "/?trend=90", "/rules", "/policy", "/audit", "/devices/new", "/tokens", "/alerts",
         "/evidence", "/sop"]  # fmt: skip


def test_every_page_has_no_wcag_a_or_aa_violation(collector: str, tmp_path: Path) -> None:  # noqa: F811
    name = _hostile_device(collector, tmp_path / "collector")
    axe = Axe()
    found: dict[str, list[str]] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        # axe is injected by the test, which the dashboard's CSP (rightly) would refuse.
        page = browser.new_context(bypass_csp=True).new_page()
        page.goto(f"{collector}/login")
        pages = ["/login"]
        results = {"/login": axe.run(page, options={"runOnly": {"type": "tag", "values": WCAG}})}
        log_in(page)
        with page.expect_navigation():
            page.click(f"text={name}")
        device = re.sub(r"^https?://[^/]+", "", page.url)
        for path in [*PAGES, device]:
            page.goto(collector + path)
            pages.append(path)
            results[path] = axe.run(page, options={"runOnly": {"type": "tag", "values": WCAG}})
        browser.close()
    for path, result in results.items():
        problems = [
            f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
            for v in result.response["violations"]
        ]
        if problems:
            found[path] = problems
    assert len(pages) == len(PAGES) + 2
    assert found == {}, found
