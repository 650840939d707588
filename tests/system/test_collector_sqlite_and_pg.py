"""The collector as a real process on loopback, on SQLite and on PostgreSQL: register, enrol and
send with the real agent; deduplication; the policy with its ETag; the CLI's errors."""

from __future__ import annotations

import re
import stat
import subprocess
import tomllib
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from agent.policy.loader import default_policy_text
from tests.system.conftest import (
    COLLECTOR,
    Collector,
    StartCollector,
    clean_env,
    free_port,
    run,
    run_agent,
    write_policy,
)
from tests.system.pg import PgServer, database_name

pytestmark = pytest.mark.system

NewReport = Callable[[str], dict[str, Any]]
VERDICTS = {"compliant", "non_compliant", "unknown"}
RULE_STATUSES = {"pass", "fail", "unknown", "not_applicable"}


def summary_of(collector: Collector, device_id: str) -> dict[str, Any]:
    devices = collector.admin_json("/api/v1/devices", limit=500)
    found = [d for d in devices if d["id"] == device_id]
    assert len(found) == 1, f"device {device_id} not listed once in {devices}"
    summary: dict[str, Any] = found[0]
    return summary


# register, enrol, send ---------------------------------------------------------------------


def test_register_enrol_send_with_the_real_agent(collector: Collector, tmp_path: Path) -> None:
    registration = collector.register_cli(owner="Grace Hopper", department="Navy")
    before = summary_of(collector, registration.device_id)
    assert before["state"] == "awaiting_enrolment"
    assert before["last_seen_at"] is None

    device = collector.enrol(tmp_path / "agent", registration)
    assert summary_of(collector, registration.device_id)["state"] == "unknown"  # no report yet
    secret_file = tmp_path / "agent" / "device_secret"
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert device.secret.startswith("osd_")

    sent = run_agent(device.state_dir, "send")
    assert sent.returncode == 0, sent.stderr
    match = re.search(r"report ([0-9a-f-]{36}) accepted: (\w+); failing: (.*)$", sent.stdout)
    assert match, sent.stdout
    report_id, agent_state, agent_failing = match.groups()
    collector.wait_for_report(report_id)

    summary = summary_of(collector, device.device_id)
    assert summary["name"] == registration.name
    assert (summary["owner"], summary["department"]) == ("Grace Hopper", "Navy")
    assert summary["approval_expires"] == "2099-12-31"
    assert summary["state"] in VERDICTS
    assert summary["state"] == agent_state
    assert summary["last_seen_at"] is not None
    assert all(isinstance(rule_id, str) for rule_id in summary["failing_rules"])
    assert (", ".join(summary["failing_rules"]) or "none") == agent_failing

    detail = collector.device(device.device_id)
    assert detail["reports_received"] == 1
    assert detail["enrolled_at"] is not None
    assert detail["last_source_ip"] == "127.0.0.1"
    assert detail["facts"]["report_id"] == report_id
    assert detail["facts"]["device_id"] == device.device_id
    assert detail["hostname"] == detail["facts"]["host"]["hostname"]
    assert set(detail["facts"]["probes"]) >= {"patch_level", "network", "accounts"}

    rules = {rule["id"]: rule for rule in detail["rules"]}
    assert {"NET-001", "NET-008", "ADM-001", "PATCH-001", "SEC-001"} <= set(rules)
    for rule in rules.values():
        assert rule["status"] in RULE_STATUSES, rule
        assert rule["title"] and rule["severity"], rule
        if rule["status"] == "fail":
            assert rule["evidence"], f"{rule['id']} fails without evidence"
    assert sorted(r for r, v in rules.items() if v["status"] == "fail") == sorted(
        summary["failing_rules"]
    )
    # Collector-side rules: loopback is not an egress address; the approval runs to 2099.
    assert rules["NET-008"]["status"] == "pass"
    assert rules["ADM-001"]["status"] == "pass"

    history = collector.history(device.device_id)
    rule_events = {e["rule_id"]: e for e in history if e["kind"] == "rule"}
    assert set(rule_events) == set(rules)
    for rule_id, event in rule_events.items():
        assert (event["old"], event["new"]) == (None, rules[rule_id]["status"])
        assert event["report_id"] == report_id
    state_events = [e for e in history if e["kind"] == "state"]
    if summary["state"] != "unknown":  # registered devices start as unknown
        assert [(e["old"], e["new"]) for e in state_events] == [("unknown", summary["state"])]
        assert state_events[0]["report_id"] == report_id


def test_agent_enroll_with_an_unknown_token_says_why(collector: Collector, tmp_path: Path) -> None:
    done = run_agent(
        tmp_path, "enroll", "--server", collector.url, "--token", "ose_" + uuid.uuid4().hex
    )
    assert done.returncode == 1
    assert "401" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "enrolment.json").exists()


# deduplication -----------------------------------------------------------------------------


def test_the_same_report_sent_twice_is_stored_once(
    collector: Collector, tmp_path: Path, new_report: NewReport
) -> None:
    device = collector.enrol(tmp_path / "agent")
    report = new_report(device.device_id)
    metrics_before = collector.metrics()

    first = collector.post_report(device.auth, report, compress=True)
    assert first.status_code == 200, first.text
    assert first.json()["duplicate"] is False
    collector.wait_for_report(report["report_id"])
    history_after_first = collector.history(device.device_id)
    rows_after_first = collector.row_counts()

    again = collector.post_report(device.auth, report)  # the exact same body, not compressed
    assert again.status_code == 200, again.text
    answer = again.json()
    assert answer["duplicate"] is True and answer["accepted"] is True
    assert answer["state"] == first.json()["state"]
    assert answer["failing_rules"] == first.json()["failing_rules"]

    assert collector.device(device.device_id)["reports_received"] == 1
    assert collector.history(device.device_id) == history_after_first
    assert collector.row_counts() == rows_after_first
    stored = collector.scalar(
        "SELECT count(*) FROM reports WHERE device_id = :d", d=device.device_id
    )
    assert stored == 1
    metrics = collector.metrics()
    key = 'outpost_reports_total{outcome="%s"}'
    assert metrics[key % "duplicate"] - metrics_before[key % "duplicate"] == 1
    assert metrics[key % "accepted"] - metrics_before[key % "accepted"] == 1

    # A new report id is a new report: deduplication is by report_id, not by content.
    assert collector.send(device.auth, new_report(device.device_id))["duplicate"] is False
    assert collector.device(device.device_id)["reports_received"] == 2


# the policy --------------------------------------------------------------------------------


def test_policy_has_an_etag_and_answers_304_when_unchanged(
    collector: Collector, tmp_path: Path
) -> None:
    device = collector.enrol(tmp_path / "agent")
    url = collector.url + "/api/v1/policy"

    served = requests.get(url, headers=device.auth, timeout=10)
    assert served.status_code == 200
    assert served.headers["content-type"].startswith("application/toml")
    etag = served.headers["ETag"]
    assert re.fullmatch(r'"[0-9a-f]{16,}"', etag), etag
    assert served.text == default_policy_text()
    assert tomllib.loads(served.text)["network"]["egress_cidrs"]
    # The agent cached it at enrolment, with the ETag.
    assert (device.state_dir / "policy.toml").read_text() == served.text
    assert (device.state_dir / "policy.etag").read_text().strip() == etag

    unchanged = requests.get(url, headers={**device.auth, "If-None-Match": etag}, timeout=10)
    assert unchanged.status_code == 304
    assert unchanged.content == b""
    assert unchanged.headers["ETag"] == etag
    listed = requests.get(
        url, headers={**device.auth, "If-None-Match": f'"nope", {etag}'}, timeout=10
    )
    assert listed.status_code == 304
    other = requests.get(url, headers={**device.auth, "If-None-Match": '"stale"'}, timeout=10)
    assert other.status_code == 200 and other.text == served.text

    assert requests.get(url, timeout=10).status_code == 401
    wrong = {"Authorization": "Bearer osd_not-a-device"}
    assert requests.get(url, headers=wrong, timeout=10).status_code == 401


ORG_POLICY = """\
[organisation]
name = "Test University"
domains = ["test.example"]

[network]
internal_cidrs = ["10.0.0.0/8"]
egress_cidrs = ["203.0.113.0/24"]
"""


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_collector_serves_the_policy_file_it_was_given(
    backend: str, start_collector: StartCollector, tmp_path: Path
) -> None:
    policy = write_policy(tmp_path / "org.toml", ORG_POLICY)
    custom = start_collector(backend, "--policy", str(policy))
    device = custom.enrol(tmp_path / "agent")

    served = requests.get(custom.url + "/api/v1/policy", headers=device.auth, timeout=10)
    assert served.status_code == 200
    assert served.text == ORG_POLICY
    assert (device.state_dir / "policy.toml").read_text() == ORG_POLICY  # the agent's cache
    default = requests.get(custom.url + "/api/v1/policy", headers=device.auth, timeout=10)
    assert served.headers["ETag"] == default.headers["ETag"]


@pytest.mark.parametrize(
    ("body", "named"),
    [
        (ORG_POLICY.replace('"203.0.113.0/24"', '"203.0.113.0/24", "nope"'), ["line 7", "nope"]),
        (ORG_POLICY.replace('domains = ["test.example"]', "bogus = 1"), ["line 3", "bogus"]),
        (ORG_POLICY.replace("[network]", "[network"), ["line 5"]),
    ],
    ids=["bad-cidr", "unknown-key", "bad-toml"],
)
def test_a_broken_policy_file_stops_serve_naming_the_line(
    body: str, named: list[str], tmp_path: Path
) -> None:
    """Backend-independent (the policy is read before anything is served): SQLite only."""
    policy = write_policy(tmp_path / "broken.toml", body)
    port = str(free_port())
    argv = [COLLECTOR, "serve", "--data-dir", str(tmp_path / "data"), "--port", port]
    done = run([*argv, "--policy", str(policy)])
    assert done.returncode == 2, done.stdout + done.stderr
    message = done.stderr.strip().splitlines()[-1]
    assert message.startswith(f"collector: {policy}"), message
    for part in named:
        assert part in message, message
    assert "Traceback" not in done.stderr


# CLI errors --------------------------------------------------------------------------------


def test_registering_a_duplicate_name_exits_2(collector: Collector) -> None:
    registration = collector.register()
    again = collector.cli(
        "device", "register", registration.name, "--owner", "Other", "--department", "Other",
        "--approved-by", "Someone", "--justification", "again", "--expires", "2099-01-01",
    )  # fmt: skip
    assert again.returncode == 2
    assert f"collector: a device named '{registration.name}' is already registered" in again.stderr
    assert "Traceback" not in again.stderr
    named = collector.scalar("SELECT count(*) FROM devices WHERE name = :n", n=registration.name)
    assert named == 1
    owner = collector.device(registration.device_id)["owner"]
    assert owner == "Ada Lovelace"


def test_admin_create_refuses_a_short_password(collector: Collector) -> None:
    name = f"admin-{uuid.uuid4().hex[:8]}"
    short = collector.cli("admin", "create", name, "--password-stdin", stdin="short-pw\n")
    assert short.returncode == 2
    assert "at least 12 characters" in short.stderr
    assert "Traceback" not in short.stderr
    assert collector.scalar("SELECT count(*) FROM admins WHERE username = :n", n=name) == 0

    good = collector.cli("admin", "create", name, "--password-stdin", stdin="a long passphrase\n")
    assert good.returncode == 0, good.stderr
    stored = collector.scalar("SELECT password_hash FROM admins WHERE username = :n", n=name)
    assert str(stored).startswith("$argon2")


@pytest.mark.parametrize("expires", ["2025-13-45", "31/12/2099", "soon"])
def test_a_bad_expiry_date_is_a_usage_error(collector: Collector, expires: str) -> None:
    name = f"laptop-{uuid.uuid4().hex[:10]}"
    done = collector.cli(
        "device", "register", name, "--owner", "o", "--department", "d", "--approved-by", "a",
        "--justification", "j", "--expires", expires,
    )  # fmt: skip
    assert done.returncode == 2
    assert "usage: collector device register" in done.stderr
    assert f"{expires!r} is not a date (YYYY-MM-DD)" in done.stderr
    assert collector.scalar("SELECT count(*) FROM devices WHERE name = :n", n=name) == 0


def test_revoking_an_unknown_device_exits_2(collector: Collector) -> None:
    done = collector.cli("device", "revoke", "no-such-laptop")
    assert done.returncode == 2
    assert "collector: no device named 'no-such-laptop'" in done.stderr


def test_an_over_long_name_is_refused_clearly(collector: Collector) -> None:
    name = "n" * 250
    done = collector.cli(
        "device", "register", name, "--owner", "o", "--department", "d", "--approved-by", "a",
        "--justification", "j", "--expires", "2099-01-01",
    )  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert "200" in done.stderr


def test_the_cli_on_postgresql_leaves_no_data_dir_behind(
    pg_server: PgServer, tmp_path: Path
) -> None:
    """With --database-url and no --data-dir the CLI has nothing to keep in a data directory."""
    url = pg_server.create_database()
    try:
        done = subprocess.run(
            [COLLECTOR, "token", "create", "--name", "t", "--database-url", url],
            cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False, env=clean_env(),
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert list(tmp_path.iterdir()) == []
    finally:
        pg_server.drop_database(database_name(url))
