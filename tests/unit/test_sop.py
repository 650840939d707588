"""The SOP: built from the default policy with every enabled rule, as Markdown (`collector sop`)
and as a dashboard page that any signed-in user reads and that escapes every policy value."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from agent.policy import default_policy, load_catalogue, parse_policy
from agent.policy.loader import default_policy_text
from server_stub.alerting.destinations import Destinations, parse
from server_stub.cli import main
from server_stub.sop.document import RegisterEntry, build_sop, enabled_rules
from server_stub.sop.markdown import render_markdown
from server_stub.storage.admins import create_admin
from tests.unit.test_dashboard import ESCAPED, XSS, Env, log_in, make_env, register

ISSUED = date(2026, 12, 5)
DEVICE = RegisterEntry("tt|01", "A. Person", "Press", "Prof. Head", date(2026, 12, 20), "compliant")


NO_DESTINATIONS = Destinations()
HEADINGS = (
    "Purpose and scope",
    "Approval procedure",
    "Device set-up",
    "Rules enforced",
    "Monitoring and alert routing",
    "Exception process",
    "Review cadence",
)


def markdown_for(policy_text: str, destinations: Destinations = NO_DESTINATIONS) -> str:
    policy = parse_policy(policy_text)
    return render_markdown(build_sop(policy, load_catalogue(), [DEVICE], destinations, ISSUED))


def test_the_default_policy_sop_names_every_enabled_rule_with_guidance_and_remedy() -> None:
    text = markdown_for(default_policy_text())
    rules = enabled_rules(default_policy(), load_catalogue())
    assert len(rules) == len(load_catalogue())
    for rule in rules:
        row = next(line for line in text.splitlines() if line.startswith(f"| {rule.id} |"))
        assert rule.guidance in row and rule.remediation in row, rule.id
    for heading in HEADINGS:
        assert heading in text
    for family in ("### Windows", "### macOS", "### Linux"):
        assert family in text
    assert "Settings > Windows Update" in text and "softwareupdate --install" in text
    assert "tiktok-comms@example.ac.uk" in text  # the permitted mailbox, from the policy
    assert "| tt\\|01 |" in text  # a pipe in a register value does not split the row
    assert "tt|01 (2026-12-20)" in text  # its approval expires within 30 days


def test_a_disabled_rule_is_left_out_and_a_regraded_one_shows_its_severity() -> None:
    text = markdown_for(
        default_policy_text().replace(
            '[rules.SEC-003]\nseverity = "medium"',
            '[rules.SEC-003]\nenabled = false\n\n[rules.NET-005]\nseverity = "low"',
        )
    )
    assert "SEC-003" not in text
    assert "| NET-005 | No organisation Wi-Fi profile saved | low |" in text


def test_alert_routing_lists_each_destination_and_its_route() -> None:
    destinations = parse(
        ("https://hooks.example.test/outpost#severity=critical+high&department=Press",),
        (),
        None,
        None,
    )
    text = markdown_for(default_policy_text(), destinations)
    assert "critical, high; departments Press" in text
    assert "No alert destination is configured" not in text
    assert "No alert destination is configured" in markdown_for(default_policy_text())


def test_collector_sop_writes_the_markdown_file(tmp_path: Path) -> None:
    out = tmp_path / "sop.md"
    assert main(["sop", "--data-dir", str(tmp_path), "--output", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Standard operating procedure")
    assert all(f"| {rule.id} |" in text for rule in load_catalogue())
    assert list(tmp_path.glob(".sop-*")) == []  # nothing half-written left behind
    # A document to publish: an ordinary file's mode (0666 less the umask), not mkstemp's 0600.
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask


def test_collector_sop_says_why_it_cannot_write(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "no-such-dir" / "sop.md"
    assert main(["sop", "--data-dir", str(tmp_path), "--output", str(missing)]) == 2
    assert "cannot write" in capsys.readouterr().err


@pytest.fixture
def hostile_env(tmp_path: Path) -> Iterator[Env]:
    policy = tmp_path / "policy.toml"
    policy.write_text(
        default_policy_text()
        .replace('name = "University of Example"', f'name = "{XSS}"')
        .replace('allowed = ["tiktok", "tiktok-admin"]', f'allowed = ["tiktok", "{XSS}"]'),
        encoding="utf-8",
    )
    yield from make_env(tmp_path, policy_file=str(policy))


def test_the_sop_page_escapes_policy_values_and_a_viewer_reads_it(hostile_env: Env) -> None:
    env = hostile_env
    register(env, "kiosk-1", owner=XSS, department=XSS)
    with env.state.sessions.begin() as session:
        create_admin(session, "vera", "a viewer's own password", "test", role="viewer")
    log_in(env.client, password="a viewer's own password", username="vera")
    page = env.client.get("/sop")
    assert page.status_code == 200
    assert "<script" not in page.text.lower()
    assert page.text.count(ESCAPED) >= 4  # organisation, account, owner, department
    for rule in load_catalogue():
        assert f"<td>{rule.id}</td>" in page.text, rule.id
    assert 'href="/sop"' in env.client.get("/").text  # linked from every page
    markdown = env.client.get("/sop.md")
    assert markdown.status_code == 200 and markdown.text.startswith("# Standard operating")


def test_the_sop_page_needs_a_signed_in_user(hostile_env: Env) -> None:
    assert hostile_env.client.get("/sop").status_code == 303
    assert hostile_env.client.get("/sop.md").status_code == 303
