"""Rate limits at the agents' doors (server_stub/rate_limits.py, the `limits` library), through
the real app in-process: reports per device, failed credentials per client address, both on the
fast path and through the router, answered 429 with a Retry-After the agent honours."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from server_stub.config import Settings, SettingsError, settings_from
from tests.unit.test_collector_api import HARDWARE, Api, make_api


@pytest.fixture(params=[True, False], ids=["fast path", "router"])
def api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Api]:
    yield from make_api(
        tmp_path,
        report_fast_path=request.param,
        report_rate_limit="3/minute",
        failure_rate_limit="2/minute",
    )


def fresh(report: dict[str, Any], device_id: str) -> dict[str, Any]:
    return {**report, "report_id": str(uuid.uuid4()), "device_id": device_id}


@pytest.fixture
def report(linux_report: dict[str, Any]) -> dict[str, Any]:
    return {**linux_report, "host": {**linux_report["host"], "hardware_id_hash": HARDWARE}}


def test_a_device_over_its_budget_gets_429_with_retry_after_and_others_do_not(
    api: Api, report: dict[str, Any]
) -> None:
    post = api.client.post
    for _ in range(3):
        answer = post("/api/v1/reports", json=fresh(report, api.device_id), headers=api.device)
        assert answer.status_code == 200, answer.text
    over = post("/api/v1/reports", json=fresh(report, api.device_id), headers=api.device)
    assert over.status_code == 429
    assert 1 <= int(over.headers["retry-after"]) <= 60
    assert "too many reports from this device" in over.json()["detail"]
    other_id, token = api.register()
    other = {"Authorization": f"Bearer {api.enrol(token)}"}
    assert post("/api/v1/reports", json=fresh(report, other_id), headers=other).status_code == 200
    accepted = {"outcome": "accepted"}
    assert api.state.metrics.registry.get_sample_value("outpost_reports_total", accepted) == 4


def test_failed_secrets_block_their_address_but_good_reports_never_use_its_budget(
    api: Api, report: dict[str, Any]
) -> None:
    post = api.client.post
    good = post("/api/v1/reports", json=fresh(report, api.device_id), headers=api.device)
    assert good.status_code == 200  # a good report takes nothing from the address's budget
    for secret in ("osd_wrong-1", "osd_wrong-2"):
        wrong = {"Authorization": f"Bearer {secret}"}
        assert post("/api/v1/reports", json=report, headers=wrong).status_code == 401
    blocked = post("/api/v1/reports", json=fresh(report, api.device_id), headers=api.device)
    assert blocked.status_code == 429 and "retry-after" in blocked.headers
    assert "failed credentials" in blocked.json()["detail"]
    # Behind a trusted proxy, another client address has its own budget: see the next test.


def test_unknown_enrolment_tokens_block_the_address_from_enrolling(api: Api) -> None:
    body = {"token": "never-issued", "hostname": "laptop", "hardware_id_hash": HARDWARE}
    for _ in range(2):
        assert api.client.post("/api/v1/enroll", json=body).status_code == 401
    _, token = api.register()
    blocked = api.client.post("/api/v1/enroll", json={**body, "token": token})
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) >= 1
    # The token was not spent: it enrols once the window has passed (here: another process's
    # budget, a fresh collector on the same database).


def test_each_forwarded_client_has_its_own_failure_budget(tmp_path: Path) -> None:
    trusted = settings_from(data_dir=str(tmp_path), trusted_proxies=["127.0.0.0/8"], env={})
    [api] = make_api(
        tmp_path, failure_rate_limit="1/minute", trusted_proxies=trusted.trusted_proxies
    )
    # TestClient's own peer ("testclient") is no address; this one is the trusted proxy.
    client = TestClient(api.app, client=("127.0.0.1", 50000))
    body = {"token": "never-issued", "hostname": "laptop", "hardware_id_hash": HARDWARE}

    def enrol_from(address: str) -> int:
        headers = {"X-Forwarded-For": address}
        return client.post("/api/v1/enroll", json=body, headers=headers).status_code

    assert [enrol_from("203.0.113.5"), enrol_from("203.0.113.5")] == [401, 429]
    assert enrol_from("203.0.113.6") == 401


@pytest.mark.parametrize("name", ["OUTPOST_REPORT_RATE_LIMIT", "OUTPOST_FAILURE_RATE_LIMIT"])
def test_a_limit_that_is_no_limit_is_refused_at_start(tmp_path: Path, name: str) -> None:
    settings = settings_from(data_dir=str(tmp_path), env={name: "lots"})
    with pytest.raises(SettingsError, match=name):
        settings.check()
    assert Settings(tmp_path, "sqlite://").report_rate_limit == "60/minute"
