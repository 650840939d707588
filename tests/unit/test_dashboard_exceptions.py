"""Exceptions on the dashboard: an admin grants one from the device page (the rule shows
excepted with who and until when, the device is judged again at once, the audit log has it),
revokes it (the rule fails again); a form with a problem is refused with every problem named."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from agent.policy.loader import default_policy_text
from server_stub.storage.tables import AuditEntry, RuleState
from tests.unit.test_dashboard import (
    Env,
    add_report,
    csrf,
    device_state,
    hostile_report,
    log_in,
    make_env,
    register,
)


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    yield from make_env(tmp_path)


def failing(env: Env, device_id: str) -> list[str]:
    statement = select(RuleState.rule_id).where(
        RuleState.device_id == device_id, RuleState.status == "fail"
    )
    with env.state.sessions() as session:
        return sorted(session.scalars(statement))


def grant_form(token: str, rule_id: str, **changes: str) -> dict[str, str]:
    form = {
        "csrf_token": token, "rule_id": rule_id, "scope": "device",
        "reason": "The vendor has no fix yet", "mitigation": "Only used on the office LAN",
        "days": "14",
    }  # fmt: skip
    return {**form, **changes}


def test_an_admin_grants_an_exception_and_revokes_it(env: Env) -> None:
    device_id = register(env, "kiosk-1")
    add_report(env, device_id, hostile_report())
    log_in(env.client)
    page = f"/devices/{device_id}"
    rules = failing(env, device_id)
    assert rules and device_state(env, device_id) == "non_compliant"
    answer = env.client.post(
        f"{page}/exceptions", data=grant_form(csrf(env.client, page), rules[0])
    )
    assert answer.status_code == 303 and answer.headers["location"].startswith(page)
    shown = env.client.get(page).text
    assert re.search(rf"{rules[0]}.*?excepted by admin until \d{{4}}-", shown, re.S)
    assert "The vendor has no fix yet" in shown and "Only used on the office LAN" in shown
    assert failing(env, device_id) == rules[1:]
    if len(rules) == 1:
        assert device_state(env, device_id) == "compliant"
    with env.state.sessions() as session:
        actions = list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions[-1] == "exception.grant"

    found = re.search(r'action="/exceptions/(\d+)/revoke"', shown)
    assert found
    token = csrf(env.client, page)
    answer = env.client.post(
        f"/exceptions/{found.group(1)}/revoke", data={"csrf_token": token, "device_id": device_id}
    )
    assert answer.status_code == 303
    assert failing(env, device_id) == rules
    assert device_state(env, device_id) == "non_compliant"
    assert "revoked by admin" in env.client.get(page).text


def test_a_grant_with_problems_is_refused_naming_each(env: Env) -> None:
    device_id = register(env, "kiosk-1")
    log_in(env.client)
    page = f"/devices/{device_id}"
    bad = grant_form(csrf(env.client, page), "NOPE-1", scope="everyone", reason="short", days="400")
    answer = env.client.post(f"{page}/exceptions", data=bad)
    assert answer.status_code == 400
    for problem in ("Choose a rule", "for this device or for its department", "Reason: at least",
                    "from 1 to 365"):  # fmt: skip
        assert problem in answer.text
    assert "Mitigation" not in answer.text.split("not granted")[1]
    missing = env.client.post(
        "/devices/no-such-device/exceptions", data=grant_form(csrf(env.client, page), "SEC-001")
    )
    assert missing.status_code == 404


def test_the_policy_page_shows_each_rules_grace_period(tmp_path: Path) -> None:
    text = default_policy_text() + "\n[rules.PATCH-001]\ngrace_hours = 120\n"
    (tmp_path / "policy.toml").write_text(text, encoding="utf-8")
    for policy_env in make_env(tmp_path, policy_file=str(tmp_path / "policy.toml")):
        log_in(policy_env.client)
        page = policy_env.client.get("/policy").text

        assert "<td>120 h</td>" in row(page, "PATCH-001")
        assert "<td>24 h</td>" in row(page, "PATCH-003")
        assert "<td>none</td>" in row(page, "NET-001")


def row(page: str, rule_id: str) -> str:
    """The policy page's table row of one rule."""
    start = page.index(f'id="{rule_id}"')
    return page[start : page.index("</tr>", start)]
