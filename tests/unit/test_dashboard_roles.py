"""Viewers and admins: a viewer reads every page and changes nothing (no form shown, every
change refused with 403), an admin manages users and roles (audit-logged; the last admin stays
one), and the CLI does the same."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from server_stub import cli
from server_stub.storage.admins import create_admin
from server_stub.storage.tables import Admin, AuditEntry
from tests.unit.test_dashboard import (
    PASSWORD,
    Env,
    add_report,
    count,
    csrf,
    hostile_report,
    log_in,
    make_env,
    register,
)

VIEWER_PASSWORD = "a viewer's own password"


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    yield from make_env(tmp_path)


def as_viewer(env: Env) -> None:
    with env.state.sessions.begin() as session:
        create_admin(session, "vera", VIEWER_PASSWORD, "test", role="viewer")
    log_in(env.client, password=VIEWER_PASSWORD, username="vera")


def test_a_viewer_reads_every_page_and_is_shown_no_form_but_logout(env: Env) -> None:
    device_id = register(env, "kiosk-1")
    add_report(env, device_id, hostile_report())
    as_viewer(env)
    for path in ("/", "/rules", f"/devices/{device_id}", "/policy", "/audit", "/tokens",
                 "/alerts", "/evidence", "/users"):  # fmt: skip
        page = env.client.get(path)
        assert page.status_code == 200, path
        actions = re.findall(r'<form method="post" action="([^"]+)"', page.text)
        assert actions == ["/logout"], (path, actions)
    assert "(viewer: reads only)" in env.client.get("/").text
    assert env.client.get("/devices/new").status_code == 403


def test_every_change_a_viewer_tries_is_refused(env: Env) -> None:
    device_id = register(env, "kiosk-1")
    as_viewer(env)
    token = csrf(env.client, "/")
    attempts = {
        "/devices/new": {"name": "x"},
        f"/devices/{device_id}/revoke": {"confirm": "yes"},
        f"/devices/{device_id}/token": {"token_ttl_days": "3"},
        "/tokens/revoke": {"name": "x"},
        "/alerts/retry": {"delivery_id": "1"},
        f"/devices/{device_id}/exceptions": {"rule_id": "SEC-001", "days": "3"},
        "/exceptions/1/revoke": {"device_id": device_id},
        "/users": {"username": "eve", "password": "a long enough password", "role": "admin"},
        "/users/role": {"username": "vera", "role": "admin"},
    }
    for path, fields in attempts.items():
        answer = env.client.post(path, data={**fields, "csrf_token": token})
        assert answer.status_code == 403, path
        assert "Viewers can read everything here but change nothing" in answer.text
    with env.state.sessions.begin() as session:
        roles = {str(u): str(r) for u, r in session.execute(select(Admin.username, Admin.role))}
    assert roles == {"admin": "admin", "vera": "viewer"}
    assert env.client.post("/logout", data={"csrf_token": token}).status_code == 303


def test_an_admin_adds_users_and_changes_roles_and_the_last_admin_stays(env: Env) -> None:
    log_in(env.client)
    token = csrf(env.client, "/users")
    new = {"csrf_token": token, "username": "vera", "password": VIEWER_PASSWORD, "role": "viewer"}
    assert env.client.post("/users", data=new).status_code == 303
    short = {**new, "username": "eve", "password": "short"}
    assert "at least 12 characters" in env.client.post("/users", data=short).text
    page = env.client.get("/users").text
    assert re.search(r"<td>vera</td><td>viewer</td>", page)
    promote = {"csrf_token": token, "username": "vera", "role": "admin"}
    assert env.client.post("/users/role", data=promote).status_code == 303
    for name in ("vera", "admin"):
        demote = {"csrf_token": token, "username": name, "role": "viewer"}
        answer = env.client.post("/users/role", data=demote)
    assert answer.status_code == 400 and "the last admin cannot become a viewer" in answer.text
    assert count(env, AuditEntry, AuditEntry.action == "admin.role") == 2
    assert count(env, AuditEntry, AuditEntry.action == "admin.create") == 2  # admin and vera


def test_the_cli_creates_lists_and_changes_roles(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = ["--data-dir", str(tmp_path)]
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert cli.main(["admin", "create", "ada", "--password-stdin", *data]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert cli.main(["admin", "create", "vera", "--password-stdin", "--role", "viewer", *data]) == 0
    assert cli.main(["admin", "role", "ada", "viewer", *data]) != 0  # the last admin
    assert cli.main(["admin", "role", "vera", "admin", *data]) == 0
    assert cli.main(["admin", "list", *data]) == 0
    listed = capsys.readouterr().out
    assert re.search(r"^ada\tadmin\t", listed, re.M) and re.search(r"^vera\tadmin\t", listed, re.M)
