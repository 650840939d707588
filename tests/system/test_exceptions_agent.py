"""The laptop hears of an exception: a real collector whose policy names loopback as an egress
address (so NET-008 fails for every report), an exception granted for NET-008 on the device, and
the real `agent send`: `agent status` and the self-check show the rule excepted, by whom and
until when, and the collector's state compliant; before the grant, failing."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from server_stub.ingest.exceptions import grant_exception
from server_stub.storage.clock import utcnow
from tests.system.conftest import BACKENDS, StartCollector, run_agent, write_policy
from tests.system.test_agent_delivery import send, status

pytestmark = pytest.mark.system
POLICY = """\
[organisation]
name = "Test University"

[network]
internal_cidrs = ["10.0.0.0/8"]
egress_cidrs = ["127.0.0.0/8"]
"""


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_excepted_rule_reaches_agent_status_and_the_self_check(
    start_collector: StartCollector, tmp_path: Path, backend: str
) -> None:
    policy = write_policy(tmp_path / "org.toml", POLICY)
    collector = start_collector(backend, "--policy", str(policy))
    state = tmp_path / "state"
    device = collector.enrol(state)
    code, _, stderr = send(state)
    assert code == 0, stderr
    before = status(state)["collector_verdict"]
    assert "NET-008" in before["failing_rules"] and before["rule_notes"] == {}

    until = (utcnow() + timedelta(days=3)).replace(second=0, microsecond=0)
    grant_exception(
        collector.engine, rule_id="NET-008", device_id=device.device_id, department=None,
        reason="Set up in the press office, moving to 4G", mitigation="No internal account",
        expires_at=until, actor="ada", grace={}, now=utcnow(),
    )  # fmt: skip
    code, _, stderr = send(state)
    assert code == 0, stderr
    after = status(state)["collector_verdict"]
    stamp = until.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert "NET-008" not in after["failing_rules"]
    assert after["rule_notes"]["NET-008"] == {"status": "excepted", "until": stamp, "by": "ada"}
    text = run_agent(state, "status").stdout
    assert f"NET-008 excepted by ada until {stamp}" in text
    checked = json.loads(run_agent(state, "--self-check", "--json").stdout)
    [verdict] = [c for c in checked["checks"] if c["name"] == "verdict"]
    assert f"NET-008 excepted by ada until {stamp}" in verdict["detail"]
    assert checked["collector_notes"]["NET-008"]["status"] == "excepted"
