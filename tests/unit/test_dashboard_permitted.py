"""The device page names the permitted organisation identity a device uses, by the collector's
own policy, and a look-alike is never named."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.unit.test_dashboard import (
    ESCAPED,
    XSS,
    Env,
    add_report,
    hostile_report,
    log_in,
    make_env,
    register,
)

PERMITTED = "tiktok-comms@example.ac.uk"


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    yield from make_env(tmp_path)


def report_with(*identities: str) -> dict[str, Any]:
    report = hostile_report()
    data = report["probes"]["credentials"]["data"]
    data["findings"] = [
        {**data["findings"][0], "location": f"~/mail{n}", "identity": identity}
        for n, identity in enumerate(identities)
    ]
    return report


def permitted_cell(page: str) -> str:
    start = page.index("Permitted organisation identity</dt><dd>")
    return page[start : page.index("</dd>", start)]


def test_the_device_page_names_the_permitted_identity_in_use(env: Env) -> None:
    device_id = register(env, "kiosk-1")
    add_report(env, device_id, report_with("TikTok-Comms@example.ac.uk", "bob@example.ac.uk"))
    log_in(env.client)
    page = env.client.get(f"/devices/{device_id}").text
    assert PERMITTED in permitted_cell(page)
    assert "permitted: TikTok-Comms@example.ac.uk (~/mail0)" in page  # CRED-001 evidence
    assert "CRED-001" in page.split("Rule results")[1].split("</table>")[0]


def test_a_look_alike_is_not_named_permitted(env: Env) -> None:
    device_id = register(env, "kiosk-1")
    add_report(env, device_id, report_with(f"{PERMITTED}.evil.com"))
    log_in(env.client)
    page = env.client.get(f"/devices/{device_id}").text
    assert "none in use" in permitted_cell(page)


def test_the_device_page_lists_browsers_and_the_tiktok_app_escaped(env: Env) -> None:
    report = report_with()
    report["probes"]["applications"] = {
        "status": "ok",
        "duration_ms": 4,
        "error": None,
        "data": {
            "browsers": [
                {"name": "chrome", "version": "149.0.1", "source": XSS, "version_unknown": None},
                {
                    "name": "firefox",
                    "version": None,
                    "source": "dpkg firefox",
                    "version_unknown": "snap.yaml does not exist",
                },
            ],
            "tiktok": [
                {
                    "name": "tiktok",
                    "version": "37.5.0",
                    "source": "/Applications/TikTok.app",
                    "version_unknown": None,
                }
            ],
            "gaps": {},
        },
    }
    device_id = register(env, "kiosk-1")
    add_report(env, device_id, report)
    log_in(env.client)
    page = env.client.get(f"/devices/{device_id}").text
    section = page.split("Browsers and the TikTok app")[1].split("</table>")[0]
    assert "149.0.1" in section and ESCAPED in section and "<script" not in section
    assert "unknown: snap.yaml does not exist" in section and "37.5.0" in section
    assert "chrome 149.0.1 (minimum 150)" in page  # PATCH-005's evidence
