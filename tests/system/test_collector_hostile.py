"""Hostile input at every door of a running collector, on SQLite and on PostgreSQL: invalid
UTF-8, lone surrogates, NaN, deep nesting, NUL in paths, queries, forms and JSON, oversized
bodies. Each is answered 4xx (never 5xx), and no answer echoes more than a short excerpt."""

from __future__ import annotations

import copy
import json
import re
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.system.conftest import Collector, EnrolledDevice

pytestmark = pytest.mark.system

MARK = "HOSTILE-ECHO-"
PADDING = MARK * 40  # an answer may quote 60 characters at most: never MARK * 5
PASSWORD = "a long hostile passphrase"
GET_ROUTES = [
    "/api/v1/policy", "/api/v1/devices", "/api/v1/devices/{id}", "/api/v1/devices/{id}/history",
    "/api/v1/compliance.csv", "/healthz", "/metrics", "/login", "/", "/devices/new",
    "/devices/{id}", "/policy", "/audit", "/tokens",
]  # fmt: skip
POST_ROUTES = [
    "/api/v1/enroll", "/api/v1/reports", "/login", "/logout", "/devices/new",
    "/devices/{id}/revoke", "/tokens/revoke",
]  # fmt: skip
KIB = 1024


@dataclass(frozen=True)
class Door:
    """A collector with a device, an admin token and a logged-in dashboard session."""

    collector: Collector
    device: EnrolledDevice
    browser: requests.Session
    csrf: str
    report: dict[str, Any]

    def headers(self, path: str) -> dict[str, str]:
        agent = path in ("/api/v1/reports", "/api/v1/policy")
        token = self.device.secret if agent else self.collector.admin_token
        return {"Authorization": f"Bearer {token}"}

    def call(self, method: str, path: str, body: bytes | None = None, **headers: str) -> Any:
        url = self.collector.url + path.replace("{id}", self.device.device_id)
        sent = {**self.headers(path.split("?")[0]), **headers}
        return self.browser.request(method, url, data=body, headers=sent, timeout=30)


@pytest.fixture(scope="module")
def door(
    collector: Collector, tmp_path_factory: pytest.TempPathFactory, report_template: dict[str, Any]
) -> Iterator[Door]:
    root = tmp_path_factory.mktemp(f"hostile-{collector.backend}")
    device = collector.enrol(Path(root) / "agent")
    admin = f"hostile-{uuid.uuid4().hex[:6]}"
    made = collector.cli("admin", "create", admin, "--password-stdin", stdin=PASSWORD + "\n")
    assert made.returncode == 0, made.stderr
    browser = requests.Session()
    page = browser.get(collector.url + "/login", timeout=10).text
    token = re.search(r'name="login_token" value="([^"]+)"', page)
    assert token is not None
    form = {"username": admin, "password": PASSWORD, "login_token": token[1]}
    logged_in = browser.post(collector.url + "/login", data=form, timeout=30)
    assert logged_in.status_code == 200, logged_in.text[:300]
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', browser.get(collector.url + "/").text)
    assert csrf is not None
    report = copy.deepcopy(report_template)
    report["device_id"] = device.device_id
    yield Door(collector, device, browser, csrf[1], report)
    browser.close()


def assert_refused(response: requests.Response, what: str) -> None:
    assert 400 <= response.status_code < 500, (what, response.status_code, response.text[:300])
    assert MARK * 5 not in response.text, (what, "echoed the input")


# paths and queries -------------------------------------------------------------------------

BAD_PATHS = {"nul": "a%00b" + PADDING, "invalid-utf8": "%FF%FE" + PADDING, "control": "a%0Ab"}
BAD_QUERIES = {
    "nul": "q=a%00b&page=%00&next=%00&state=%00",
    "invalid-utf8": "q=%FF&page=%C0%80&next=%ED%A0%80",
    "nul-in-a-name": "a%00=" + PADDING,
}


@pytest.mark.parametrize("route", GET_ROUTES + POST_ROUTES)
@pytest.mark.parametrize("bad", BAD_QUERIES, ids=list(BAD_QUERIES))
def test_a_bad_query_is_400_at_every_route(door: Door, route: str, bad: str) -> None:
    method = "POST" if route in POST_ROUTES and route not in GET_ROUTES else "GET"
    response = door.call(method, f"{route}?{BAD_QUERIES[bad]}")
    assert response.status_code == 400, (route, response.text[:200])
    assert_refused(response, route)


@pytest.mark.parametrize("route", [r for r in GET_ROUTES + POST_ROUTES if "{id}" in r])
@pytest.mark.parametrize("bad", BAD_PATHS, ids=list(BAD_PATHS))
def test_a_bad_device_id_is_400(door: Door, route: str, bad: str) -> None:
    method = "POST" if route.endswith("/revoke") else "GET"
    response = door.call(method, route.replace("{id}", BAD_PATHS[bad]))
    assert response.status_code == 400, (route, response.text[:200])
    assert_refused(response, route)


# JSON bodies -------------------------------------------------------------------------------

DEEP = b"[" * 100_000 + b"]" * 100_000
JSON_BODIES = {
    "invalid-utf8": b'{"token": "\xff\xfe", "hostname": "' + PADDING.encode() + b'"}',
    "lone-surrogate": b'{"token": "\\ud800", "hostname": "' + PADDING.encode() + b'"}',
    "nan": b'{"token": NaN, "hostname": "' + PADDING.encode() + b'"}',
    "infinity": b'{"token": Infinity, "hostname": "h"}',
    "huge-number": b'{"token": 1e999, "hostname": "h"}',
    "deep": DEEP,
    "deep-in-a-field": b'{"token": ' + b"[" * 500 + b"]" * 500 + b', "hostname": "h"}',
    "nul": b'{"token": "a\\u0000b", "hostname": "h", "hardware_id_hash": "' + b"a" * 64 + b'"}',
    "echo": b'{"token": {"x": "' + PADDING.encode() + b'"}, "hostname": 1}',
    "not-json": PADDING.encode(),
}


@pytest.mark.parametrize("route", POST_ROUTES)
@pytest.mark.parametrize("bad", JSON_BODIES, ids=list(JSON_BODIES))
def test_bad_json_is_4xx_at_every_post_route(door: Door, route: str, bad: str) -> None:
    body = JSON_BODIES[bad]
    response = door.call("POST", route, body, **{"Content-Type": "application/json"})
    assert_refused(response, route)


def report_with(door: Door, path: list[str], value: Any) -> bytes:
    report = copy.deepcopy(door.report)
    report["report_id"] = str(uuid.uuid4())
    target = report
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return json.dumps(report).encode()


def nested(depth: int) -> Any:
    value: Any = PADDING
    for n in range(depth):
        value = [value] if n % 2 else {"k": value}
    return value


@pytest.mark.parametrize("depth", [70, 300, 900])
@pytest.mark.parametrize(
    "path",
    [["probes", "network", "data", "vpns"], ["probes", "network", "data", "gaps"], ["smuggled"]],
    ids=["vpns", "gaps", "top"],
)
def test_a_report_nesting_deep_inside_a_field_is_400(
    door: Door, path: list[str], depth: int
) -> None:
    body = report_with(door, path, nested(depth))
    response = door.call("POST", "/api/v1/reports", body, **{"Content-Type": "application/json"})
    assert response.status_code == 400, response.text[:300]
    assert response.json() == {"detail": "body nests too deeply to be a report"}


@pytest.mark.parametrize(
    "value", ["a\x00b", "\ud800", float("nan")], ids=["nul", "surrogate", "nan"]
)
def test_odd_values_inside_a_report_are_never_a_5xx(door: Door, value: Any) -> None:
    body = report_with(door, ["host", "os_build"], value)
    if isinstance(value, str) and "\ud800" in value:
        body = body.replace(b"\\\\ud800", b"\\ud800")
    response = door.call("POST", "/api/v1/reports", body, **{"Content-Type": "application/json"})
    assert response.status_code < 500, response.text[:300]
    assert MARK * 5 not in response.text


# forms -------------------------------------------------------------------------------------

FORM_ROUTES = ["/login", "/logout", "/devices/new", "/devices/{id}/revoke", "/tokens/revoke"]
FORM_VALUES = {"nul": "a%00b", "invalid-utf8": "%FF%FE", "overlong": "%C0%80"}


@pytest.mark.parametrize("route", FORM_ROUTES)
@pytest.mark.parametrize("bad", FORM_VALUES, ids=list(FORM_VALUES))
def test_a_bad_form_field_is_400(door: Door, route: str, bad: str) -> None:
    fields = {"csrf_token": door.csrf, "name": "x", "username": "u", "password": "p"}
    body = "&".join(f"{k}={v}" for k, v in fields.items()) + f"&{FORM_VALUES[bad]}={PADDING}"
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    response = door.call("POST", route, body.encode(), **form)
    expected = 403 if route == "/login" else 400  # /login: the double-submit check comes first
    assert response.status_code in (400, expected), (route, response.text[:300])
    assert_refused(response, route)


# sizes -------------------------------------------------------------------------------------

SIZE_LIMITS = {"/api/v1/enroll": 4 * KIB, "/login": 8 * KIB, "/devices/new": 64 * KIB}


@pytest.mark.parametrize("route", [*SIZE_LIMITS, "/logout", "/tokens/revoke"])
@pytest.mark.parametrize("chunked", [False, True], ids=["declared", "chunked"])
def test_an_oversized_body_is_413(door: Door, route: str, chunked: bool) -> None:
    size = SIZE_LIMITS.get(route, 64 * KIB) + 1
    body = (MARK * (size // len(MARK) + 1)).encode()[:size]
    sent: Any = iter([body[i : i + 4096] for i in range(0, size, 4096)]) if chunked else body
    url = door.collector.url + route
    response = door.browser.post(url, data=sent, headers=door.headers(route), timeout=30)
    assert response.status_code == 413, (route, response.text[:200])
    assert_refused(response, route)


def test_a_200_mib_token_is_refused_without_reading_it(door: Door) -> None:
    """The token that took the collector from 145 MB to 976 MB: refused on its declared length,
    after only the first bytes were sent."""
    head = (
        "POST /api/v1/enroll HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/json\r\nContent-Length: 209715200\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", door.collector.port), timeout=30) as sock:
        sock.sendall(head.encode() + b'{"token": "' + b"x" * 65536)
        answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]


@pytest.mark.parametrize("field", ["username", "password"])
def test_a_nul_in_a_real_login_is_400(door: Door, field: str) -> None:
    """With a good double-submit token, so the fields would reach the database."""
    with requests.Session() as browser:
        page = browser.get(door.collector.url + "/login", timeout=10).text
        token = re.search(r'name="login_token" value="([^"]+)"', page)
        assert token is not None
        form = {"username": "admin", "password": "pw", "login_token": token[1], field: "a\x00b"}
        response = browser.post(door.collector.url + "/login", data=form, timeout=30)
    assert response.status_code == 400, response.text[:300]
