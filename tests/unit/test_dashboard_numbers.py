"""Whole numbers typed into the dashboard: "²" passes str.isdigit() and a number of 5,000
digits is past Python's int() limit; both raised ValueError (a 500). Each is now refused the
way any other wrong number is, and nothing is written."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.unit.test_dashboard import Env, csrf, log_in, make_env, register
from tests.unit.test_dashboard_exceptions import grant_form

ODD = ["²", "١٢", "9" * 5000]


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    yield from make_env(tmp_path)


@pytest.mark.parametrize("days", ODD)
def test_an_exception_for_an_odd_number_of_days_is_refused(env: Env, days: str) -> None:
    device_id = register(env, "kiosk-1")
    log_in(env.client)
    page = f"/devices/{device_id}"
    form = grant_form(csrf(env.client, page), "PATCH-001", days=days)
    answer = env.client.post(f"{page}/exceptions", data=form)
    assert answer.status_code == 400 and "from 1 to 365" in answer.text


@pytest.mark.parametrize("days", ODD)
def test_a_token_for_an_odd_number_of_days_is_refused(env: Env, days: str) -> None:
    device_id = register(env, "kiosk-1")
    log_in(env.client)
    token = csrf(env.client, f"/devices/{device_id}")
    form = {"csrf_token": token, "token_ttl_days": days}
    answer = env.client.post(f"/devices/{device_id}/token", data=form)
    assert answer.status_code == 400 and "whole number of days" in answer.text


@pytest.mark.parametrize("number", ODD)
def test_an_odd_page_number_is_page_one(env: Env, number: str) -> None:
    log_in(env.client)
    assert env.client.get("/", params={"page": number}).status_code == 200


@pytest.mark.parametrize("number", ODD)
def test_an_odd_delivery_number_is_not_found(env: Env, number: str) -> None:
    log_in(env.client)
    form = {"csrf_token": csrf(env.client, "/alerts"), "delivery_id": number}
    assert env.client.post("/alerts/retry", data=form).status_code == 404


def test_revoking_an_exception_of_an_absurd_number_is_not_found(env: Env) -> None:
    # SQLite cannot bind an integer past 64 bits (OverflowError): no such exception all the same.
    log_in(env.client)
    form = {"csrf_token": csrf(env.client, "/")}
    for number in ("9" * 30, "-1", "0"):
        assert env.client.post(f"/exceptions/{number}/revoke", data=form).status_code == 404
