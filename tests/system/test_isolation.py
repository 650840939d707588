"""NET-009 in real network namespaces: the laptop behind a hotspot joined to the campus network
(double NAT) can reach what only the inside can, though every other network rule passes; on a
public network it cannot, and the probe keeps to its budget even when nothing answers; a split
tunnel to the campus opening under the running service fails NET-009 on the collector at once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.system.isolation_lab import (
    COLLECTOR_SIDE,
    ISSUER,
    SERVER,
    TARGETS,
    Lab,
    collector_link,
    lab,
    open_split_tunnel,
)
from tests.system.test_agent_service import (
    ENV,
    cli,
    enrol,
    new_collector,
    tls_certificate,
    wait_for,
)

pytestmark = pytest.mark.system

AGENT = str(Path(sys.executable).parent / "agent")
BUDGET_MS = 800
# The probe's threads are joined this long after the budget; the rest is process bookkeeping.
SLACK_MS = 250
OTHER_RULES = ("ACC-001", "ACC-002", "PATCH-001", "PATCH-002", "PATCH-003", "PATCH-004",
               "SEC-001", "SEC-002", "SEC-003", "CRED-001")  # fmt: skip
POLICY = (
    '[organisation]\nname = "Isolation test"\ndomains = ["outpost.test"]\n'
    '[network]\ninternal_cidrs = ["198.51.100.0/24"]\nssids = ["eduroam"]\n'
    'dns_suffixes = ["outpost.test"]\nvpn_hosts = ["vpn.outpost.test"]\n'
    f"internal_probes = {json.dumps(list(TARGETS))}\n"
    + "".join(f"[rules.{rule}]\nenabled = false\n" for rule in OTHER_RULES)
)


@pytest.fixture
def network(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Lab]:
    assert os.geteuid() == 0, "network namespace tests need root (CI runs them as root)"
    with lab(request.param, tmp_path) as made:
        yield made


def self_check(made: Lab, folder: Path) -> dict[str, Any]:
    """`agent --self-check --json` inside the laptop's namespace (an empty home to scan)."""
    policy, config, home = folder / "policy.toml", folder / "agent.toml", folder / "home"
    policy.write_text(POLICY)
    home.mkdir()
    config.write_text(f"[credentials]\nhomes = [{json.dumps(str(home))}]\n")
    done = subprocess.run(
        [*made.exec(), AGENT, "--self-check", "--json", "--policy", str(policy),
         "--config", str(config), "--state-dir", str(folder / "state")],
        capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "NO_COLOR": "1"},
    )  # fmt: skip
    assert done.returncode in (0, 1, 3), done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def rules_of(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {rule["id"]: rule for rule in result["rules"]}


def isolation_of(result: dict[str, Any]) -> tuple[int, dict[str, dict[str, Any]]]:
    probe = result["report"]["probes"]["isolation"]
    assert probe["status"] == "ok", probe["error"]
    return probe["duration_ms"], {t["target"]: t for t in probe["data"]["targets"]}


@pytest.mark.parametrize("network", ["hotspot"], indirect=True)
def test_behind_a_hotspot_on_the_campus_network_net009_fails(network: Lab, tmp_path: Path) -> None:
    result = self_check(network, tmp_path)
    rules = rules_of(result)
    # What the laptop says about itself looks clean: its address, gateway and resolver are the
    # hotspot's, no campus Wi-Fi, VPN or share.
    for rule_id in ("NET-001", "NET-002", "NET-003", "NET-004", "NET-005", "NET-006", "NET-007"):
        assert rules[rule_id]["status"] == "pass", rules[rule_id]
    net009 = rules["NET-009"]
    assert net009["status"] == "fail", net009
    assert result["verdict"] == "non_compliant"
    evidence = " ".join(net009["evidence"])
    via = f"via {network.interface}"
    assert f"intranet.outpost.test: resolved, to an internal address {via}" in evidence
    assert f"{SERVER}:8080: connected {via}" in evidence
    assert f"https://wiki.outpost.test:8443/ issuer={ISSUER}: connected" in evidence
    assert "hotspot" in net009["remediation"]
    _, targets = isolation_of(result)
    assert targets[f"{SERVER}:8080"]["reachable"] is True
    assert targets[TARGETS[2]]["reachable"] is True, "the TLS issuer is the campus CA"


@pytest.mark.parametrize("network", ["public"], indirect=True)
def test_on_a_public_network_net009_passes_within_the_budget(network: Lab, tmp_path: Path) -> None:
    result = self_check(network, tmp_path)
    net009 = rules_of(result)["NET-009"]
    assert net009["status"] == "pass", net009
    duration_ms, targets = isolation_of(result)
    assert [(t["resolved"], t["reachable"], t["answer"]) for t in targets.values()] == [
        (False, None, "not_found"),
        (None, False, "timeout"),  # the campus range is black-holed: nothing ever answers
        (False, None, "not_found"),
    ]
    assert targets[f"{SERVER}:8080"]["interface"] == network.interface
    assert duration_ms <= BUDGET_MS + SLACK_MS, f"the probe took {duration_ms} ms"


@pytest.mark.parametrize("network", ["public_silent_dns"], indirect=True)
def test_a_resolver_that_never_answers_is_unknown_within_the_budget(
    network: Lab, tmp_path: Path
) -> None:
    result = self_check(network, tmp_path)
    net009 = rules_of(result)["NET-009"]
    assert net009["status"] == "unknown", net009
    assert "intranet.outpost.test: the resolver did not answer" in " ".join(net009["evidence"])
    duration_ms, targets = isolation_of(result)
    assert targets["intranet.outpost.test"]["answer"] == "no_answer"
    assert targets[f"{SERVER}:8080"]["answer"] == "timeout"
    assert duration_ms <= BUDGET_MS + SLACK_MS, f"the probe took {duration_ms} ms"


# -- at once on a network change ------------------------------------------------------------------
CHANGE_POLICY = (
    '[organisation]\nname = "Isolation test"\ndomains = ["outpost.test"]\n'
    '[network]\ninternal_cidrs = ["198.51.100.0/24"]\n'
    f'internal_probes = ["{SERVER}:8080"]\n'
    + "".join(f"[rules.{rule}]\nenabled = false\n" for rule in OTHER_RULES)
)


def test_a_split_tunnel_opening_fails_net009_at_once(tmp_path: Path) -> None:
    """The running service sees the tunnel appear (a new address), reports at once, and the
    collector's NET-009 fails, naming the target and the tunnel's interface, while NET-001
    and NET-002 still pass: the tunnel's address is public and the default route unchanged."""
    assert os.geteuid() == 0, "network namespace tests need root (CI runs them as root)"
    policy = tmp_path / "policy.toml"
    policy.write_text(CHANGE_POLICY)
    with collector_link() as made:
        cert, key = tls_certificate(tmp_path, COLLECTOR_SIDE)
        collector = new_collector(tmp_path, "--policy", str(policy), "--tls-cert", cert,
                                  "--tls-key", key, host=COLLECTOR_SIDE)  # fmt: skip
        collector.ca_file = cert
        collector.start()
        state = tmp_path / "agent"
        service: subprocess.Popen[bytes] | None = None
        try:
            device_id = enrol(collector, state, prefix=made.exec())
            cli(AGENT, "--state-dir", str(state), "send", prefix=made.exec())
            before = {r["id"]: r for r in collector.device(device_id)["rules"]}
            assert before["NET-009"]["status"] == "pass", before["NET-009"]
            assert f"{SERVER}:8080: unreachable" in " ".join(before["NET-009"]["evidence"])
            service = subprocess.Popen(
                [*made.exec(), AGENT, "--state-dir", str(state), "--policy", str(policy), "run",
                 "--interval", "3600", "--log-file", str(tmp_path / "agent.log")],
                env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            time.sleep(3)  # the service takes its first network fingerprint
            tunnel = open_split_tunnel(made)

            def flagged() -> bool:
                return "NET-009" in collector.device(device_id)["failing_rules"]

            assert wait_for(flagged, 30, "NET-009 to fail on the collector") < 30
            after = {r["id"]: r for r in collector.device(device_id)["rules"]}
            assert f"{SERVER}:8080: connected via {tunnel}" in " ".join(
                after["NET-009"]["evidence"]
            )
            assert (after["NET-001"]["status"], after["NET-002"]["status"]) == ("pass", "pass")
        finally:
            if service is not None:
                service.send_signal(signal.SIGTERM)
                service.wait(60)
            collector.stop()
