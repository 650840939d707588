"""Every door in-process: malformed input answered 4xx without echoing it, security headers on
every answer, enrolment bound to a hardware id, admin tokens listed, expired and revoked."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from server_stub.api.guard import EXCERPT, LIMITS, json_problem
from server_stub.cli import main
from server_stub.storage.admins import create_api_token, list_api_tokens
from server_stub.storage.clock import utcnow
from server_stub.storage.tables import ApiToken, AuditEntry
from tests.unit.test_collector_api import HARDWARE, Api, make_api
from tests.unit.test_dashboard import csrf, log_in, make_env

JSON = {"Content-Type": "application/json"}
MARK = "ECHOED-INPUT-"  # padding a reply must not carry back


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Any:
    yield from make_api(tmp_path_factory.mktemp("doors"))


def assert_refused(response: Any, *statuses: int) -> None:
    assert response.status_code in statuses, (response.status_code, response.text[:300])
    assert MARK * 3 not in response.text
    assert len(response.content) < 4096


ENROL_BODIES = {
    "lone surrogate": b'{"token": "\\ud800", "hostname": "h", "hardware_id_hash": null}',
    "NaN": b'{"token": NaN, "hostname": "h", "hardware_id_hash": null}',
    "Infinity": b'{"token": "t", "hostname": "h", "n": Infinity}',
    "invalid UTF-8": b'{"token": "\xff\xfe", "hostname": "h"}',
    "deep": b'{"token": ' + b"[" * 300 + b"]" * 300 + b"}",
    "NUL": b'{"token": "a\\u0000b", "hostname": "h", "hardware_id_hash": "' + b"a" * 64 + b'"}',
    "NUL in a key": b'{"a\\u0000": 1}',
    "echo": b'{"token": ["' + MARK.encode() * 50 + b'"], "hostname": 1}',
}


@pytest.mark.parametrize("body", ENROL_BODIES.values(), ids=ENROL_BODIES)
def test_malformed_enrolment_is_4xx_and_not_echoed(api: Api, body: bytes) -> None:
    assert_refused(api.client.post("/api/v1/enroll", content=body, headers=JSON), 400, 422)


def test_validation_errors_name_the_field_not_the_input(api: Api) -> None:
    body = {"token": MARK * 50, "hostname": "h", "hardware_id_hash": "nothex"}
    response = api.client.post("/api/v1/enroll", json=body)
    assert_refused(response, 422)
    detail = response.json()["detail"]
    assert detail["errors"][0]["field"] == "body.token"
    assert "body.hardware_id_hash" in [e["field"] for e in detail["errors"]]
    assert "input" not in response.text


@pytest.mark.parametrize("hardware", [None, "", "ab" * 31, "AB" * 32, "zz" * 32, "ab" * 33])
def test_enrolment_needs_a_real_hardware_id(api: Api, hardware: str | None) -> None:
    _, token = api.register()
    body: dict[str, Any] = {"token": token, "hostname": "h", "hardware_id_hash": hardware}
    response = api.client.post("/api/v1/enroll", json=body)
    assert response.status_code == 422
    assert "hardware_id_hash" in response.json()["detail"]["message"]
    del body["hardware_id_hash"]
    assert api.client.post("/api/v1/enroll", json=body).status_code == 422
    body["hardware_id_hash"] = HARDWARE  # the token was not spent by the refusals
    assert api.client.post("/api/v1/enroll", json=body).status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/devices/a%00b",
        "/api/v1/devices/a%00b/history",
        "/api/v1/devices/%FF%FE",
        "/api/v1/devices?q=a%00b",
        "/api/v1/devices?q=%FF",
        "/devices/a%00b",
        "/login?next=%00",
    ],
)
def test_nul_and_bad_utf8_in_paths_and_queries_are_400(api: Api, path: str) -> None:
    assert_refused(api.client.get(path, headers=api.admin), 400)


@pytest.mark.parametrize("field", ["username", "password", "next", "login_token"])
def test_nul_or_bad_utf8_in_a_form_field_is_400(tmp_path: Path, field: str) -> None:
    for env in make_env(tmp_path):
        form = {"username": "admin", "password": "x", "login_token": "t", "next": "/"}
        for bad in ("a%00b", "%FF"):
            body = "&".join(f"{k}={bad if k == field else v}" for k, v in form.items())
            headers = {"content-type": "application/x-www-form-urlencoded"}
            response = env.client.post("/login", content=body, headers=headers)
            assert response.status_code == 400, (bad, response.status_code)


@pytest.mark.parametrize("path", ["/api/v1/enroll", "/login", "/logout", "/devices/new"])
def test_bodies_over_the_route_limit_are_413(api: Api, path: str) -> None:
    limit = LIMITS.get(path, 64 * 1024)
    body = b'{"token": "' + b"x" * limit + b'"}'
    assert_refused(api.client.post(path, content=body, headers=JSON), 413)
    chunked = iter([b"x" * 1024] * (limit // 1024 + 1))  # no Content-Length
    assert_refused(api.client.post(path, content=chunked, headers=JSON), 413)


def test_json_problem_walks_keys_values_and_depth() -> None:
    assert json_problem(b'{"a": [1, {"b": "c"}]}') is None
    assert json_problem(b'{"a": {"b\\u0000": 1}}') == "body contains a NUL character"
    assert "deeper" in str(json_problem(b"[" * 17 + b"]" * 17))
    assert json_problem(b"[" * 16 + b"]" * 16) is None
    problem = str(json_problem(b'{"a": "' + MARK.encode() * 100))
    assert len(problem) < 2 * EXCERPT + 40


def test_reports_keep_their_answers(api: Api) -> None:
    response = api.client.post("/api/v1/reports", content=b"[", headers=api.device)
    assert response.status_code == 400
    not_json = "body is not JSON: unexpected end of data: line 1 column 2 (char 1)"
    assert response.json() == {"detail": not_json}
    deep = b'{"a":' + b"[" * 100 + b"]" * 100 + b"}"  # orjson alone would take it
    response = api.client.post("/api/v1/reports", content=deep, headers=api.device)
    assert response.json() == {"detail": "body nests too deeply to be a report"}


# headers ----------------------------------------------------------------------------------


def test_api_answers_are_nosniff_and_no_store(api: Api) -> None:
    for response in (
        api.client.get("/healthz"),
        api.client.get("/api/v1/devices", headers=api.admin),
        api.client.get("/api/v1/devices"),  # a 401
        api.client.post("/api/v1/reports", content=b"[", headers=api.device),
        api.client.get("/api/v1/devices/a%00b"),  # refused by the guard
    ):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["cache-control"] == "no-store"
        assert "strict-transport-security" not in response.headers
    policy = api.client.get("/api/v1/policy", headers=api.device)
    assert policy.headers["cache-control"] == "no-cache"  # revalidated with its ETag


def test_dashboard_keeps_its_csp_and_static_files_may_cache(tmp_path: Path) -> None:
    for env in make_env(tmp_path):
        page = env.client.get("/login")
        assert page.headers["cache-control"] == "no-store"
        assert "default-src 'none'" in page.headers["content-security-policy"]
        assert page.headers["x-content-type-options"] == "nosniff"
        css = env.client.get("/static/outpost.css")
        assert css.status_code == 200
        assert "no-store" not in css.headers.get("cache-control", "")
        assert css.headers["x-content-type-options"] == "nosniff"


def test_hsts_under_tls(tmp_path: Path) -> None:
    for env in make_env(tmp_path, "https://testserver", tls_cert="c.pem", tls_key="k.pem"):
        for path in ("/healthz", "/login", "/static/outpost.css", "/api/v1/devices/a%00b"):
            hsts = env.client.get(path).headers["strict-transport-security"]
            assert hsts.startswith("max-age=31536000")


# admin tokens -----------------------------------------------------------------------------


def test_expired_and_revoked_tokens_answer_401(api: Api) -> None:
    with api.state.sessions.begin() as session:
        expiring = create_api_token(session, "expiring", "tests", expires_days=1)
        revoked = create_api_token(session, "revoked", "tests")
    for token in (expiring, revoked):
        auth = {"Authorization": f"Bearer {token}"}
        assert api.client.get("/api/v1/devices", headers=auth).status_code == 200
    with api.state.sessions.begin() as session:
        past = utcnow() - timedelta(seconds=1)
        session.execute(update(ApiToken).where(ApiToken.name == "expiring").values(expires_at=past))
    assert main(["token", "revoke", "revoked", "--database-url", str(api.state.engine.url)]) == 0
    for token in (expiring, revoked):
        auth = {"Authorization": f"Bearer {token}"}
        assert api.client.get("/api/v1/devices", headers=auth).status_code == 401


def test_last_use_is_written_at_most_once_a_minute(api: Api) -> None:
    with api.state.sessions.begin() as session:
        token = create_api_token(session, "polling", "tests")
    auth = {"Authorization": f"Bearer {token}"}

    def last_used() -> Any:
        with api.state.sessions.begin() as session:
            return session.scalar(select(ApiToken.last_used_at).where(ApiToken.name == "polling"))

    assert last_used() is None
    api.client.get("/api/v1/devices", headers=auth)
    first = last_used()
    assert first is not None
    api.client.get("/api/v1/devices", headers=auth)
    assert last_used() == first


def test_cli_creates_lists_and_revokes_tokens(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = ["--data-dir", str(tmp_path)]
    assert main(["token", "create", "--name", "backup", "--expires-days", "30", *db]) == 0
    assert capsys.readouterr().out.strip().startswith("osa_")
    assert main(["token", "list", *db]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].split("\t") == ["name", "created", "expires", "last_used", "revoked", "status"]
    name, created, expires, last_used, revoked, status = lines[1].split("\t")
    assert (name, last_used, revoked, status) == ("backup", "-", "-", "live")
    assert created[:10] == utcnow().date().isoformat()
    assert expires[:10] == (utcnow() + timedelta(days=30)).date().isoformat()
    assert main(["token", "revoke", "backup", *db]) == 0
    assert main(["token", "list", *db]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1].endswith("\trevoked")
    assert main(["token", "revoke", "nope", *db]) == 2
    assert main(["token", "create", "--name", "x", "--expires-days", "0", *db]) == 2


def test_dashboard_lists_and_revokes_tokens_with_csrf(tmp_path: Path) -> None:
    for env in make_env(tmp_path):
        with env.state.sessions.begin() as session:
            create_api_token(session, "ci-job", "tests")
        assert env.client.get("/tokens").status_code == 303  # logged out: to the login page
        log_in(env.client)
        page = env.client.get("/tokens")
        assert page.status_code == 200 and "ci-job" in page.text and "osa_" not in page.text
        assert env.client.post("/tokens/revoke", data={"name": "ci-job"}).status_code == 403
        token = csrf(env.client, "/tokens")
        response = env.client.post("/tokens/revoke", data={"name": "ci-job", "csrf_token": token})
        assert response.status_code == 303
        with env.state.sessions.begin() as session:
            assert list_api_tokens(session)[0].revoked_at is not None
            actions = list(session.scalars(select(AuditEntry.action)))
        assert actions.count("token.revoke") == 1 and "token.create" in actions
        assert re.search(r"revoked \d{4}-", env.client.get("/tokens").text)
