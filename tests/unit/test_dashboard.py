"""The dashboard: login, CSRF, escaping of device data, fleet table, device, policy, audit."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from agent.policy import load_catalogue
from agent.policy.loader import default_policy_text
from server_stub.app import create_app
from server_stub.config import Settings
from server_stub.ingest.batch import ingest_batch
from server_stub.ingest.outcomes import Accepted, Refused
from server_stub.ingest.reading import IncomingReport, ReportReader, Submission
from server_stub.security import token_hash
from server_stub.state import CollectorState
from server_stub.storage.admins import create_admin, create_api_token
from server_stub.storage.clock import utcnow
from server_stub.storage.devices import register_device, revoke_device
from server_stub.storage.tables import AuditEntry, Device

PASSWORD = "correct horse battery staple"
XSS = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
DEVICE_LINK = re.compile(r'href="/devices/([0-9a-f-]{36})"')


@dataclass
class Env:
    client: TestClient
    state: CollectorState


def make_env(tmp_path: Path, base_url: str = "http://testserver", **settings: Any) -> Iterator[Env]:
    config = Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'c.db'}", **settings)
    app = create_app(config, run_sweeper=False)
    state: CollectorState = app.state.collector
    with state.sessions.begin() as session:
        create_admin(session, "admin", PASSWORD, "test")
    with TestClient(app, base_url=base_url, follow_redirects=False) as client:
        yield Env(client, state)


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    yield from make_env(tmp_path)


def login_token(client: TestClient) -> str:
    page = client.get("/login")
    assert page.status_code == 200
    found = re.search(r'name="login_token" value="([^"]+)"', page.text)
    assert found
    return found.group(1)


def log_in(
    client: TestClient, password: str = PASSWORD, next_url: str = "/", username: str = "admin"
) -> Any:
    token = login_token(client)
    form = {"username": username, "password": password, "login_token": token, "next": next_url}
    return client.post("/login", data=form)


def csrf(client: TestClient, path: str = "/") -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert found
    return found.group(1)


def register(env: Env, name: str, **fields: Any) -> str:
    values: dict[str, Any] = {
        "owner": "Ada",
        "department": "Press office",
        "approved_by": "Head of Press",
        "justification": "Runs the official account",
        "expires": date.today() + timedelta(days=180),
        "token_ttl_days": 7,
        "actor": "test",
    }
    values.update(fields)
    with env.state.sessions.begin() as session:
        return register_device(session, name=name, **values).device_id


def hostile_report() -> dict[str, Any]:
    """A schema-valid report whose every string field a device controls is an attack."""

    def ok(data: dict[str, Any]) -> dict[str, Any]:
        return {"status": "ok", "duration_ms": 3, "data": data, "error": None}

    return {
        "schema_version": 1,
        "report_id": str(uuid.uuid4()),
        "device_id": None,
        "agent": {"version": "0.1.0", "dropped_reports": 2},
        "collected_at": utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
        "host": {
            "hostname": XSS,
            "os": "debian",
            "os_version": "12.11",
            "os_build": XSS,
            "kernel": "6.1",
            "arch": "x86_64",
            "boot_time": None,
            "hardware_id_hash": None,
        },
        "probes": {
            "patch_level": ok(
                {
                    "os": {
                        "os_id": "debian",
                        "os_name": XSS,
                        "os_version": "12.11",
                        "os_build": "bookworm",
                        "kernel": "6.1",
                    },
                    "package_manager": "apt",
                    "last_update_at": None,
                    "pending_updates": 3,
                    "pending_security_updates": 1,
                    "security_updates": [XSS],
                    "updates_checked_at": None,
                    "reboot_pending": None,
                    "auto_updates": True,
                    "gaps": {"last_update_at": XSS},
                }
            ),
            "network": ok(
                {
                    "interfaces": [
                        {
                            "name": XSS,
                            "kind": "wifi",
                            "is_up": True,
                            "mac": None,
                            "addresses": [{"address": "10.1.2.3", "prefix": 16, "family": "inet"}],
                        }
                    ],
                    "gateways": [{"address": "10.1.0.1", "interface": XSS, "family": "inet"}],
                    "dns_servers": ["10.0.0.53"],
                    "dns_search_domains": [XSS],
                    "wifi_ssids": ["eduroam"],
                    "saved_wifi_profiles": [XSS],
                    "vpn_connections": [
                        {"name": XSS, "kind": "tun", "remote": None, "addresses": []}
                    ],
                    "network_shares": [
                        {
                            "source": XSS,
                            "mountpoint": "/mnt",
                            "fstype": "cifs",
                            "host": "fs01.example.ac.uk",
                        }
                    ],
                    "gaps": {},
                }
            ),
            "accounts": ok(
                {
                    "logged_in": [
                        {"name": XSS, "terminal": "tty1", "host": None, "started_at": None}
                    ],
                    "local_accounts": [
                        {
                            "name": "mallory",
                            "uid": XSS,
                            "admin": True,
                            "enabled": True,
                            "source": "local",
                        }
                    ],
                    "domain_join": {
                        "joined": True,
                        "kind": "active_directory",
                        "domain": XSS,
                        "tenant_id": None,
                    },
                    "work_accounts": [{"identity": XSS, "provider": "entra", "tenant_id": None}],
                    "gaps": {},
                }
            ),
            "device_security": ok(
                {
                    "disk_encrypted": False,
                    "disk_encryption_detail": XSS,
                    "firewall_enabled": None,
                    "firewall_detail": None,
                    "screen_lock_enabled": True,
                    "screen_lock_detail": "5 min",
                    "gaps": {},
                }
            ),
            "credentials": ok(
                {
                    "findings": [
                        {
                            "kind": "saved_login",
                            "store": "chrome",
                            "location": XSS,
                            "identity": XSS,
                            "org_match": "example.ac.uk",
                            "fingerprint": "ab12",
                        }
                    ],
                    "not_inspected": [{"store": "keychain", "location": XSS, "reason": XSS}],
                    "homes": [XSS],
                    "files_scanned": 12,
                    "bytes_scanned": 3400,
                    "skipped": {XSS: 1},
                    "complete": True,
                }
            ),
        },
    }


def add_report(env: Env, device_id: str, report: dict[str, Any]) -> None:
    env.state.validator.validate(report)
    with env.state.sessions.begin() as session:
        device = session.get(Device, device_id)
        assert device is not None
        device.secret_hash = device.secret_hash or token_hash(f"secret of {device_id}")
        secret_hash = device.secret_hash
    submission = Submission(secret_hash, {**report, "device_id": device_id}, None, "198.51.100.7")
    with env.state.engine.begin() as connection:
        [answer] = ingest_batch(
            connection, [submission], env.state.served_policy.evaluator, utcnow()
        )
    assert isinstance(answer, Accepted), answer


def device_state(env: Env, device_id: str) -> str:
    with env.state.sessions.begin() as session:
        device: Device | None = session.get(Device, device_id)
        assert device is not None
        return device.state


def count(env: Env, table: Any, *where: Any) -> int:
    with env.state.sessions.begin() as session:
        return session.scalar(select(func.count()).select_from(table).where(*where)) or 0


# Login, logout and sessions


def test_login_sets_a_strict_httponly_cookie_and_redirects(env: Env) -> None:
    response = log_in(env.client, next_url="/policy")
    assert response.status_code == 303
    assert response.headers["location"] == "/policy"
    cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith("outpost_session=")
    )
    flags = [part.strip().lower() for part in cookie.split(";")]
    assert "httponly" in flags and "samesite=strict" in flags and "path=/" in flags
    assert "secure" not in flags  # plain HTTP in this test; see the TLS test
    assert env.client.get("/").status_code == 200


def test_session_cookie_is_secure_with_tls(tmp_path: Path) -> None:
    https = "https://testserver"
    for tls_env in make_env(tmp_path, https, tls_cert="cert.pem", tls_key="key.pem"):
        response = log_in(tls_env.client)
        assert response.status_code == 303
        cookie = next(c for c in response.headers.get_list("set-cookie") if "outpost_session" in c)
        assert "secure" in [part.strip().lower() for part in cookie.split(";")]


def test_wrong_password_shows_the_form_again_with_401(env: Env) -> None:
    response = log_in(env.client, password="not the password")
    assert response.status_code == 401
    assert "Wrong username or password" in response.text
    assert "outpost_session" not in response.headers.get("set-cookie", "")
    assert env.client.get("/").status_code == 303
    assert count(env, AuditEntry, AuditEntry.action == "login.failed") == 1


def test_login_without_the_double_submit_token_is_refused(env: Env) -> None:
    form = {"username": "admin", "password": PASSWORD, "login_token": "forged"}
    login_token(env.client)  # the browser has a login cookie, but the form does not match it
    response = env.client.post("/login", data=form)
    assert response.status_code == 403
    env.client.cookies.clear()
    form["login_token"] = ""
    assert env.client.post("/login", data=form).status_code == 403
    assert count(env, AuditEntry, AuditEntry.action == "login") == 0


@pytest.mark.parametrize(
    "next_url", ["//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:x"]
)
def test_login_ignores_an_offsite_next(env: Env, next_url: str) -> None:
    response = log_in(env.client, next_url=next_url)
    assert response.status_code == 303
    assert response.headers["location"] == "/"


@pytest.mark.parametrize("path", ["/", "/policy", "/audit", "/devices/new", "/devices/x"])
def test_pages_redirect_to_login_when_logged_out(env: Env, path: str) -> None:
    response = env.client.get(path, params={"page": "2"})
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith("/login?next=")
    assert env.client.get(location).status_code == 200


def test_form_bodies_are_limited_to_64_kib(env: Env) -> None:
    response = env.client.post(
        "/login",
        content=b"a=" + b"x" * (65 * 1024),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 413


def test_logout_needs_the_csrf_token(env: Env) -> None:
    log_in(env.client)
    assert env.client.post("/logout", data={}).status_code == 403
    assert env.client.post("/logout", data={"csrf_token": "wrong"}).status_code == 403
    assert env.client.get("/").status_code == 200  # still logged in
    response = env.client.post("/logout", data={"csrf_token": csrf(env.client)})
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    assert env.client.get("/").status_code == 303
    assert count(env, AuditEntry, AuditEntry.action == "logout") == 1


# Escaping


def test_device_data_is_always_escaped(env: Env) -> None:
    device_id = register(env, "kiosk-1", owner=XSS, justification=f"{XSS} for press")
    add_report(env, device_id, hostile_report())
    log_in(env.client)
    pages = ["/", f"/devices/{device_id}", "/audit", "/policy", f"/?q={XSS}"]
    for path in pages:
        response = env.client.get(path)
        assert response.status_code == 200, path
        assert "<script" not in response.text.lower(), path
        assert "text/html" in response.headers["content-type"]
        assert "default-src 'none'" in response.headers["content-security-policy"]
    device_page = env.client.get(f"/devices/{device_id}").text
    assert ESCAPED in device_page
    assert device_page.count(ESCAPED) >= 15  # hostname, interface, accounts, credentials...
    assert ESCAPED in env.client.get("/").text  # the owner
    assert ESCAPED in env.client.get("/audit").text  # the register entry's detail


def test_device_page_shows_rules_facts_credentials_and_history(env: Env) -> None:
    device_id = register(env, "kiosk-1")
    add_report(env, device_id, hostile_report())
    log_in(env.client)
    page = env.client.get(f"/devices/{device_id}").text
    assert "Head of Press" in page and "Runs the official account" in page
    failing = page.index("NET-001")  # an internal address: failing rules come first
    assert failing < page.index("Rule results") + 2000
    assert "10.1.2.3/16" in page and "10.1.0.1" in page and "eduroam" in page
    assert "fs01.example.ac.uk" in page and "mallory" in page
    assert "Disconnect from the organisation" in page  # a remedy
    assert "saved_login" in page and "Scan complete" in page
    assert "Compliance timeline" in page and "non-compliant" in page
    assert "Device state" in page
    assert "Reports the agent dropped (full spool)</dt><dd>2<" in page


def test_a_result_reused_from_an_earlier_collection_says_so(env: Env) -> None:
    """A report on a network change carries the last collection's patch level: its own time."""
    device_id = register(env, "kiosk-1")
    report = hostile_report()
    report["collected_at"] = "2026-12-05T01:30:00Z"
    report["probes"]["patch_level"]["collected_at"] = "2026-12-05T01:10:00Z"
    report["probes"]["network"]["collected_at"] = "2026-12-05T01:30:00Z"
    add_report(env, device_id, report)
    log_in(env.client)
    page = env.client.get(f"/devices/{device_id}").text
    assert "2026-12-05T01:10:00Z (reused from an earlier collection)" in page
    assert page.count("reused from an earlier collection") == 1  # not the fresh network probe


def test_reports_refused_for_good_show_on_the_fleet_and_the_device_page(env: Env) -> None:
    device_id = register(env, "kiosk-1")
    add_report(env, device_id, hostile_report())
    broken = {**hostile_report(), "device_id": device_id}
    broken["host"] = {**broken["host"], "hostname": 7}
    # Read as ingest reads every body: the schema's refusal, answered to its known device.
    incoming = IncomingReport(f"secret of {device_id}", orjson.dumps(broken), None, "198.51.100.7")
    submission = ReportReader(env.state.validator, 1 << 20).read(incoming)
    with env.state.engine.begin() as connection:
        [answer] = ingest_batch(
            connection, [submission], env.state.served_policy.evaluator, utcnow()
        )
    assert isinstance(answer, Refused), answer
    log_in(env.client)
    assert "1 refused" in env.client.get("/").text
    page = env.client.get(f"/devices/{device_id}").text
    assert 'Reports refused</dt><dd><strong class="warn">1</strong>' in page
    assert "$.host.hostname: 7 is not of type" in page


# Registering and revoking


def register_form(client: TestClient, **changes: str) -> dict[str, str]:
    form = {
        "csrf_token": csrf(client, "/devices/new"),
        "name": "press-phone-7",
        "owner": "Grace",
        "department": "Communications",
        "approved_by": "Head of Communications",
        "justification": "Publishes the university's official videos",
        "expires": (date.today() + timedelta(days=90)).isoformat(),
        "token_ttl_days": "7",
    }
    form.update(changes)
    return form


def test_register_shows_the_token_once_and_the_device_appears(env: Env) -> None:
    log_in(env.client)
    response = env.client.post("/devices/new", data=register_form(env.client))
    assert response.status_code == 200
    token = re.search(r"ose_[A-Za-z0-9_-]+", response.text)
    assert token
    assert f"agent enroll --server http://testserver --token {token.group(0)}" in response.text
    assert response.headers["cache-control"] == "no-store"
    overview = env.client.get("/").text
    assert "press-phone-7" in overview
    device_id = DEVICE_LINK.search(overview)
    assert device_id
    for path in ["/", f"/devices/{device_id.group(1)}", "/audit"]:
        assert token.group(0) not in env.client.get(path).text
    entry = env.client.get("/audit").text
    assert "device.register" in entry and "admin" in entry


def test_register_validation_errors_show_the_form_again(env: Env) -> None:
    log_in(env.client)
    form = register_form(env.client, name="", justification="short", expires="2001-01-01")
    form["token_ttl_days"] = "999"
    response = env.client.post("/devices/new", data=form)
    assert response.status_code == 400
    for message in ["Device name is required", "real justification", "today or later", "1 to 90"]:
        assert message in response.text
    assert count(env, Device) == 0
    register(env, "taken")
    response = env.client.post("/devices/new", data=register_form(env.client, name="taken"))
    assert response.status_code == 400 and "already registered" in response.text
    assert count(env, Device) == 1


@pytest.mark.parametrize("token", [None, "", "wrong"])
def test_register_refuses_a_missing_or_wrong_csrf_token(env: Env, token: str | None) -> None:
    log_in(env.client)
    form = register_form(env.client)
    if token is None:
        del form["csrf_token"]
    else:
        form["csrf_token"] = token
    assert env.client.post("/devices/new", data=form).status_code == 403
    assert count(env, Device) == 0


def test_revoke_needs_csrf_and_confirmation(env: Env) -> None:
    device_id = register(env, "kiosk-1")
    log_in(env.client)
    url = f"/devices/{device_id}/revoke"
    assert env.client.post(url, data={"confirm": "yes"}).status_code == 403
    assert env.client.post(url, data={"confirm": "yes", "csrf_token": "x"}).status_code == 403
    token = csrf(env.client, f"/devices/{device_id}")
    unconfirmed = env.client.post(url, data={"csrf_token": token})
    assert unconfirmed.status_code == 400 and "Tick the box" in unconfirmed.text
    assert device_state(env, device_id) == "awaiting_enrolment"
    assert count(env, AuditEntry, AuditEntry.action == "device.revoke") == 0
    response = env.client.post(url, data={"csrf_token": token, "confirm": "yes"})
    assert response.status_code == 303
    assert response.headers["location"] == f"/devices/{device_id}"
    assert device_state(env, device_id) == "revoked"
    actors = count(
        env, AuditEntry, AuditEntry.action == "device.revoke", AuditEntry.actor == "admin"
    )
    assert actors == 1
    page = env.client.get(f"/devices/{device_id}").text
    assert "was revoked" in page and "revoked" in page


def test_unknown_device_is_404(env: Env) -> None:
    log_in(env.client)
    assert env.client.get("/devices/nope").status_code == 404
    token = csrf(env.client)
    response = env.client.post("/devices/nope/revoke", data={"csrf_token": token})
    assert response.status_code == 404


# Fleet table


@pytest.fixture
def fleet(env: Env) -> Env:
    today = date.today()
    with env.state.sessions.begin() as session:
        for n in range(120):
            register_device(
                session,
                name=f"device-{n:03d}",
                owner=f"owner {n}",
                department="Research" if n % 2 else "Press",
                approved_by="Head",
                justification="A justification",
                expires=today + timedelta(days=n + 1),
                token_ttl_days=7,
                actor="test",
            )
        session.flush()
        for device in session.scalars(select(Device)):
            number = int(device.name[-3:])
            device.state = "compliant" if number % 3 else "non_compliant"
            device.last_seen_at = utcnow() - timedelta(minutes=number)
    log_in(env.client)
    return env


def names(page: str) -> list[str]:
    return re.findall(r'href="/devices/[0-9a-f-]{36}">([^<]+)</a>', page)


def test_fleet_is_paginated_50_a_page_with_the_total(fleet: Env) -> None:
    first = fleet.client.get("/").text
    assert len(names(first)) == 50 and names(first)[0] == "device-000"
    assert "120 devices" in first and "page 1 of 3" in first
    third = fleet.client.get("/", params={"page": "3"}).text
    assert names(third) == [f"device-{n:03d}" for n in range(100, 120)]
    assert fleet.client.get("/", params={"page": "junk"}).status_code == 200


def test_names_sort_as_people_read_them_whatever_their_case(env: Env) -> None:
    for name in ("beta", "Alpha", "charlie", "Delta"):
        register(env, name)
    log_in(env.client)
    assert names(env.client.get("/").text) == ["Alpha", "beta", "charlie", "Delta"]
    descending = env.client.get("/", params={"sort": "name", "desc": "1"}).text
    assert names(descending) == ["Delta", "charlie", "beta", "Alpha"]


def test_a_device_not_enrolled_yet_is_awaiting_enrolment_not_unknown(env: Env) -> None:
    device_id = register(env, "kiosk-1")
    assert device_state(env, device_id) == "awaiting_enrolment"
    log_in(env.client)
    assert "awaiting enrolment" in env.client.get("/").text
    assert "awaiting enrolment" in env.client.get(f"/devices/{device_id}").text
    with env.state.sessions.begin() as session:
        registration = register_device(
            session, name="kiosk-2", owner="o", department="d", approved_by="h",
            justification="j", expires=date.today() + timedelta(days=30), token_ttl_days=7,
            actor="test",
        )  # fmt: skip
    body = {"token": registration.enrolment_token, "hostname": "k2", "hardware_id_hash": "a" * 64}
    assert env.client.post("/api/v1/enroll", json=body).status_code == 200
    assert device_state(env, registration.device_id) == "unknown"  # enrolled; no report yet


def test_fleet_sorts_by_each_column(fleet: Env) -> None:
    get = fleet.client.get
    assert names(get("/", params={"sort": "name", "desc": "1"}).text)[0] == "device-119"
    assert names(get("/", params={"sort": "last_seen", "desc": "1"}).text)[0] == "device-000"
    assert names(get("/", params={"sort": "last_seen"}).text)[0] == "device-119"
    assert names(get("/", params={"sort": "approval_expires"}).text)[0] == "device-000"
    compliant_first = names(get("/", params={"sort": "state"}).text)
    assert all(int(name[-3:]) % 3 for name in compliant_first)  # compliant < non_compliant
    last = names(get("/", params={"sort": "state", "page": "3"}).text)
    assert not any(int(name[-3:]) % 3 for name in last)
    assert names(get("/", params={"sort": "bogus"}).text)[0] == "device-000"


def test_fleet_filters_by_state_and_search(fleet: Env) -> None:
    page = fleet.client.get("/", params={"state": "non_compliant"}).text
    assert "40 devices match the filter" in page
    assert all(int(name[-3:]) % 3 == 0 for name in names(page))
    assert '<span class="count">80</span> compliant' in page  # counts cover the whole fleet
    found = fleet.client.get("/", params={"q": "device-11"}).text
    assert names(found) == [f"device-11{n}" for n in range(10)]
    press = fleet.client.get("/", params={"q": "PRESS", "state": "compliant"}).text
    assert "40 devices" in press
    links = fleet.client.get("/", params={"q": "device", "sort": "state", "page": "2"}).text
    assert "q=device&amp;sort=state&amp;page=3" in links  # next page keeps the query


def test_overview_links_to_csv_and_register(fleet: Env) -> None:
    page = fleet.client.get("/").text
    assert 'href="/api/v1/compliance.csv"' in page and 'href="/devices/new"' in page
    assert fleet.client.get("/api/v1/compliance.csv").status_code == 200


# Policy, audit, assets


def test_policy_page_lists_every_rule_with_overrides(tmp_path: Path) -> None:
    text = default_policy_text().replace(
        '[rules.SEC-003]\nseverity = "medium"',
        '[rules.SEC-003]\nseverity = "low"\n\n[rules.NET-005]\nenabled = false',
    )
    assert 'severity = "low"' in text
    (tmp_path / "policy.toml").write_text(text, encoding="utf-8")
    for policy_env in make_env(tmp_path, policy_file=str(tmp_path / "policy.toml")):
        log_in(policy_env.client)
        page = policy_env.client.get("/policy").text
        catalogue = load_catalogue()
        assert len(catalogue) >= 23
        for rule in catalogue:
            assert f'id="{rule.id}"' in page
            assert rule.guidance.replace("'", "&#39;") in page
        sec = page[page.index('id="SEC-003"') :]
        assert "low <span" in sec[:400] and "(catalogue: medium)" in sec[:400]
        net = page[page.index('id="NET-005"') :]
        assert "disabled" in net[:800]
        assert page.count(">enabled<") == len(catalogue) - 1
        assert "eduroam" in page and "203.0.113.0/26" in page and "tiktok-admin" in page


def test_audit_log_is_paginated(env: Env) -> None:
    with env.state.sessions.begin() as session:
        for n in range(60):
            register_device(
                session, name=f"d{n}", owner="o", department="d", approved_by="a",
                justification="j", expires=date.today(), token_ttl_days=1, actor=f"actor-{n}",
            )  # fmt: skip
    log_in(env.client)
    first = env.client.get("/audit").text
    assert "actor-59" in first and 'href="/audit?page=2"' in first
    second = env.client.get("/audit", params={"page": "2"}).text
    assert "actor-0<" in second and "actor-59" not in second


def test_stylesheet_is_local_and_pages_load_nothing_external(env: Env) -> None:
    assert env.client.get("/static/outpost.css").status_code == 200
    log_in(env.client)
    for path in ["/", "/policy", "/audit", "/devices/new", "/login"]:
        text = env.client.get(path).text
        assert not re.search(r'(src|href)="(https?:)?//', text), path


# The rules view and the fleet's filters by rule, severity and department


def test_the_rules_view_counts_failing_devices_and_links_to_the_filtered_fleet(env: Env) -> None:
    failing = register(env, "kiosk-fail", department="Press office")
    clean = register(env, "kiosk-clean", department="Research")
    add_report(env, failing, hostile_report())  # an internal address: NET-001 fails
    clean_report = hostile_report()
    network = clean_report["probes"]["network"]["data"]
    for interface in network["interfaces"]:
        interface["addresses"] = [{"address": "100.64.3.7", "prefix": 30, "family": "inet"}]
    add_report(env, clean, clean_report)
    log_in(env.client)
    rules = env.client.get("/rules").text
    row = re.search(r'<a href="/policy#NET-001">NET-001</a>.*?</tr>', rules, re.S)
    assert row, rules
    assert '<a href="/?rule=NET-001">1</a>' in row.group(0)
    assert rules.index("NET-001") < rules.index("SEC-003")  # most failing first
    filtered = env.client.get("/", params={"rule": "NET-001"}).text
    assert names(filtered) == ["kiosk-fail"] and "1 device matches the filter" in filtered
    assert "kiosk-fail" in names(env.client.get("/", params={"severity": "critical"}).text)
    assert names(env.client.get("/", params={"severity": "low"}).text) == []  # no rule is low
    research = env.client.get("/", params={"department": "Research"}).text
    assert names(research) == ["kiosk-clean"]
    # The fleet table names each failing rule with its title and severity.
    fleet = env.client.get("/").text
    assert "No interface address in an internal range · critical" in fleet
    # A rule the catalogue does not know is no filter at all (the whole fleet).
    assert len(names(env.client.get("/", params={"rule": "NOPE-1"}).text)) == 2


def test_the_api_filters_devices_by_failing_rule_severity_and_department(env: Env) -> None:
    failing = register(env, "kiosk-fail", department="Press office")
    register(env, "kiosk-other", department="Research")
    add_report(env, failing, hostile_report())
    with env.state.sessions.begin() as session:
        token = create_api_token(session, "tests", "tests")
    admin = {"Authorization": f"Bearer {token}"}

    def listed(**params: str) -> list[str]:
        answer = env.client.get("/api/v1/devices", params=params, headers=admin)
        assert answer.status_code == 200, answer.text
        return [d["name"] for d in answer.json()]

    assert listed(rule="NET-001") == ["kiosk-fail"]
    assert listed(severity="critical") == ["kiosk-fail"]
    assert listed(department="Research") == ["kiosk-other"]
    bad = env.client.get("/api/v1/devices", params={"rule": "'; drop"}, headers=admin)
    assert bad.status_code == 422


def test_a_new_enrolment_token_is_issued_from_the_device_page_once_and_audited(env: Env) -> None:
    device_id = register(env, "kiosk-1")
    log_in(env.client)
    page = env.client.get(f"/devices/{device_id}").text
    assert "valid, not used yet" in page and "Issue a new enrolment token" in page
    url = f"/devices/{device_id}/token"
    assert env.client.post(url, data={"token_ttl_days": "3"}).status_code == 403  # no CSRF
    token = csrf(env.client, f"/devices/{device_id}")
    bad = env.client.post(url, data={"csrf_token": token, "token_ttl_days": "500"})
    assert bad.status_code == 400 and "1 to 90" in bad.text
    issued = env.client.post(url, data={"csrf_token": token, "token_ttl_days": "3"})
    assert issued.status_code == 200 and "A new enrolment token for kiosk-1" in issued.text
    secret = re.search(r'<pre class="secret">(ose_[^<]+)</pre>', issued.text)
    assert secret, issued.text
    body = {"token": secret[1], "hostname": "k1", "hardware_id_hash": "a" * 64}
    assert env.client.post("/api/v1/enroll", json=body).status_code == 200
    assert count(env, AuditEntry, AuditEntry.action == "device.token") == 1
    again = env.client.get(f"/devices/{device_id}").text
    assert secret[1] not in again and "used " in again  # never shown again
    with env.state.sessions.begin() as session:
        revoke_device(session, "kiosk-1", "test")
    refused = env.client.post(url, data={"csrf_token": token, "token_ttl_days": "3"})
    assert refused.status_code == 409


def test_a_first_reports_results_are_one_row_of_the_timeline(env: Env) -> None:
    device_id = register(env, "kiosk-1")
    add_report(env, device_id, hostile_report())
    log_in(env.client)
    page = env.client.get(f"/devices/{device_id}").text
    timeline = page[page.index("Compliance timeline") : page.index("Enrolment tokens")]
    assert timeline.count("<details><summary>") == 1
    assert re.search(r"\d+ rules checked for the first time: \d+ fail", timeline), timeline[:2000]
    assert "Device state" in timeline  # the state change stays a row of its own
    rows = timeline.count("<tr><td>")
    assert rows == 2, rows  # the folded first results and the state change


def test_the_fleet_trend_and_the_devices_state_chart_are_drawn_with_their_figures(
    env: Env,
) -> None:
    device_id = register(env, "kiosk-1")
    add_report(env, device_id, hostile_report())
    log_in(env.client)
    fleet = env.client.get("/").text
    assert "Over the last 30 days" in fleet and '<svg class="chart" role="img"' in fleet
    assert f"{date.today().isoformat()}: 1 non compliant" in fleet  # today, as it is now
    assert "The figures behind the chart" in fleet and 'href="/?trend=90"' in fleet
    assert "Over the last 90 days" in env.client.get("/", params={"trend": "90"}).text
    page = env.client.get(f"/devices/{device_id}").text
    assert "State over the last 30 days" in page and '<svg class="chart"' in page
    assert re.search(r"non-compliant from \d{4}-\d\d-\d\dT", page), "the legend names the states"
