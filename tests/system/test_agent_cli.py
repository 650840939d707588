"""The real `agent` command on this machine: self-check verdicts, exit codes, output shapes."""

from __future__ import annotations

import ipaddress
import json
import os
import pty
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import psutil
import pytest

from agent.facts.schema import report_schema

pytestmark = pytest.mark.system

AGENT = shutil.which("agent", path=str(Path(sys.executable).parent)) or "agent"


@pytest.fixture(autouse=True)
def private_state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every agent run keeps its state (fingerprint key...) in the test's own folder."""
    monkeypatch.setenv("OUTPOST_STATE_DIR", str(tmp_path / "agent-state"))


def run_agent(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [AGENT, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
        check=False,
    )


def own_address() -> tuple[str, str]:
    """A non-loopback IPv4 address of this machine and its interface."""
    for name, addrs in psutil.net_if_addrs().items():
        for addr in addrs:
            if addr.family.name == "AF_INET" and not addr.address.startswith("127."):
                return name, addr.address
    pytest.fail("this machine has no non-loopback IPv4 address")


def write_policy(tmp_path: Path, cidrs: list[str], extra: str = "") -> Path:
    policy = tmp_path / "policy.toml"
    policy.write_text(
        f'[organisation]\nname = "Test"\n[network]\ninternal_cidrs = {json.dumps(cidrs)}\n{extra}'
    )
    return policy


def self_check(tmp_path: Path, policy: Path) -> tuple[int, dict[str, Any]]:
    done = run_agent(
        "--self-check", "--json", "--policy", str(policy), "--state-dir", str(tmp_path / "state")
    )
    assert done.returncode in (0, 1, 3), done.stderr
    return done.returncode, json.loads(done.stdout)


def rule(result: dict[str, Any], rule_id: str) -> dict[str, Any]:
    return next(r for r in result["rules"] if r["id"] == rule_id)


def test_own_address_in_internal_range_fails_net001(tmp_path: Path) -> None:
    interface, address = own_address()
    code, result = self_check(tmp_path, write_policy(tmp_path, [f"{address}/32"]))
    net001 = rule(result, "NET-001")
    assert net001["status"] == "fail"
    assert f"{interface} {address}" in " ".join(net001["evidence"])
    assert result["verdict"] == "non_compliant"
    assert code == 1


def test_ranges_that_miss_every_address_pass_net001(tmp_path: Path) -> None:
    _, address = own_address()
    other = (
        "203.0.113.0/24"
        if ipaddress.ip_address(address) not in ipaddress.ip_network("203.0.113.0/24")
        else "198.51.100.0/24"
    )
    _, result = self_check(tmp_path, write_policy(tmp_path, [other]))
    assert rule(result, "NET-001")["status"] == "pass"


def test_json_shape_and_report_validity(tmp_path: Path) -> None:
    code, result = self_check(tmp_path, write_policy(tmp_path, ["203.0.113.0/24"]))
    assert set(result) >= {"schema_version", "verdict", "rules", "probes", "checks", "report"}
    assert {r["status"] for r in result["rules"]} <= {"pass", "fail", "unknown", "not_applicable"}
    for entry in result["rules"]:
        assert set(entry) >= {"id", "title", "severity", "status", "evidence", "remediation"}
    assert set(result["probes"]["network"]) == {"status", "duration_ms"}
    checks = {c["name"]: c for c in result["checks"]}
    assert (
        checks["enrolment"]["status"] == "fail" and "not enrolled" in checks["enrolment"]["detail"]
    )
    assert checks["service"]["status"] in ("fail", "unknown")  # no unit installed here
    jsonschema.Draft202012Validator(report_schema()).validate(result["report"])
    expected = {"compliant": 0, "non_compliant": 1, "unknown": 3}[result["verdict"]]
    assert code == expected
    # CRED-001 may pass only when the credential scan ran and saw everything.
    credentials = result["report"]["probes"]["credentials"]
    if rule(result, "CRED-001")["status"] == "pass":
        assert credentials["status"] == "ok" and credentials["data"]["complete"] is True


def test_broken_policy_exits_2_naming_line_and_key(tmp_path: Path) -> None:
    policy = tmp_path / "bad.toml"
    policy.write_text('[network]\ninternal_cidrs = ["10.0.0.0/8"]\nssids = "eduroam"\n')
    done = run_agent("--self-check", "--policy", str(policy))
    assert done.returncode == 2
    assert "line 3" in done.stderr and "[network] ssids" in done.stderr
    assert "Traceback" not in done.stderr


def test_broken_config_and_missing_policy_exit_2(tmp_path: Path) -> None:
    config = tmp_path / "agent.toml"
    config.write_text("[agent]\nserver = 42\n")
    done = run_agent("--self-check", "--config", str(config))
    assert done.returncode == 2 and "line 2" in done.stderr and "[agent] server" in done.stderr
    done = run_agent("--self-check", "--policy", str(tmp_path / "nope.toml"))
    assert done.returncode == 2 and "cannot read the policy file" in done.stderr


def test_usage_error_exits_2() -> None:
    assert run_agent("--no-such-flag").returncode == 2
    assert run_agent().returncode == 2


def test_text_output_has_colour_on_a_terminal_only(tmp_path: Path) -> None:
    policy = write_policy(tmp_path, ["203.0.113.0/24"])
    piped = run_agent("--self-check", "--policy", str(policy))
    assert "\033[" not in piped.stdout
    assert "NET-001" in piped.stdout and "Fix:" in piped.stdout
    assert "not enrolled" in piped.stdout
    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"} | {"TERM": "xterm"}
    proc = subprocess.Popen(
        [AGENT, "--self-check", "--policy", str(policy)],
        stdout=follower,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    proc.wait(timeout=60)
    os.close(leader)
    assert b"\033[3" in b"".join(chunks)


def test_facts_json_is_one_valid_report() -> None:
    done = run_agent("facts", "--json")
    assert done.returncode == 0, done.stderr
    jsonschema.Draft202012Validator(report_schema()).validate(json.loads(done.stdout))


def test_facts_record_writes_a_replayable_recording(tmp_path: Path) -> None:
    from agent.facts.probes import PROBES
    from agent.facts.runner import run_probe
    from tests.replay import ReplayContext

    out = tmp_path / "machine.json"
    assert run_agent("facts", "--record", str(out)).returncode == 0
    recording = json.loads(out.read_text())
    for probe in PROBES:
        if probe.name not in ("credentials", "data_labels"):  # these two need the policy's settings
            assert run_probe(ReplayContext(recording), probe).status == "ok", probe.name
