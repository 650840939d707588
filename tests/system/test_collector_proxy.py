"""NET-008 behind a TLS proxy: X-Forwarded-For is believed only from --trusted-proxy addresses.

SQLite only: the source address is worked out before the database is touched.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.system.conftest import Collector, EnrolledDevice, StartCollector, write_policy

pytestmark = pytest.mark.system

NewReport = Callable[[str], dict[str, Any]]
EGRESS = "203.0.113.0/24"
POLICY = f"""\
[organisation]
name = "Test University"

[network]
internal_cidrs = ["10.0.0.0/8"]
egress_cidrs = ["{EGRESS}"]
"""


@pytest.fixture(scope="module")
def policy_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_policy(tmp_path_factory.mktemp("policy") / "org.toml", POLICY)


@pytest.fixture(scope="module")
def proxied(start_module_collector: StartCollector, policy_file: Path) -> Collector:
    args = ("--policy", str(policy_file), "--trusted-proxy", "127.0.0.1/32")
    return start_module_collector("sqlite", *args)


@pytest.fixture(scope="module")
def direct(start_module_collector: StartCollector, policy_file: Path) -> Collector:
    return start_module_collector("sqlite", "--policy", str(policy_file))


def net008(collector: Collector, device: EnrolledDevice) -> dict[str, Any]:
    rules = {rule["id"]: rule for rule in collector.device(device.device_id)["rules"]}
    rule: dict[str, Any] = rules["NET-008"]
    return rule


def send_via_proxy(
    collector: Collector, device: EnrolledDevice, report: dict[str, Any], forwarded: str
) -> None:
    collector.send(device.auth, report, headers={"X-Forwarded-For": forwarded})


def test_forwarded_egress_address_fails_net008_behind_a_trusted_proxy(
    proxied: Collector, tmp_path: Path, new_report: NewReport
) -> None:
    device = proxied.enrol(tmp_path / "agent")
    send_via_proxy(proxied, device, new_report(device.device_id), "203.0.113.9")

    rule = net008(proxied, device)
    assert rule["status"] == "fail"
    assert "203.0.113.9" in " ".join(rule["evidence"])
    detail = proxied.device(device.device_id)
    assert detail["last_source_ip"] == "203.0.113.9"
    assert "NET-008" in detail["failing_rules"]
    assert detail["state"] == "non_compliant"
    stored = proxied.scalar(
        "SELECT source_ip FROM reports WHERE device_id = :d", d=device.device_id
    )
    assert stored == "203.0.113.9"


def test_a_forged_left_hop_cannot_hide_the_egress_address(
    proxied: Collector, tmp_path: Path, new_report: NewReport
) -> None:
    """The device writes 198.18.0.1 itself; the proxy appends the address it really saw."""
    device = proxied.enrol(tmp_path / "agent")
    send_via_proxy(proxied, device, new_report(device.device_id), "198.18.0.1, 203.0.113.9")
    assert net008(proxied, device)["status"] == "fail"
    assert proxied.device(device.device_id)["last_source_ip"] == "203.0.113.9"


def test_a_public_address_passes_net008_behind_a_trusted_proxy(
    proxied: Collector, tmp_path: Path, new_report: NewReport
) -> None:
    device = proxied.enrol(tmp_path / "agent")
    send_via_proxy(proxied, device, new_report(device.device_id), "198.51.100.20")
    assert net008(proxied, device)["status"] == "pass"
    assert proxied.device(device.device_id)["last_source_ip"] == "198.51.100.20"


def test_forwarded_for_is_ignored_without_a_trusted_proxy(
    direct: Collector, tmp_path: Path, new_report: NewReport
) -> None:
    device = direct.enrol(tmp_path / "agent")
    send_via_proxy(direct, device, new_report(device.device_id), "203.0.113.9")
    assert net008(direct, device)["status"] == "pass"
    detail = direct.device(device.device_id)
    assert detail["last_source_ip"] == "127.0.0.1"
    assert "NET-008" not in detail["failing_rules"]


def test_an_ipv4_mapped_egress_address_fails_net008(
    proxied: Collector, tmp_path: Path, new_report: NewReport
) -> None:
    device = proxied.enrol(tmp_path / "agent")
    send_via_proxy(proxied, device, new_report(device.device_id), "::ffff:203.0.113.9")
    assert net008(proxied, device)["status"] == "fail"  # as a dual-stack proxy on [::] writes it
    assert proxied.device(device.device_id)["last_source_ip"] == "203.0.113.9"


def test_a_second_forwarded_for_line_from_the_proxy_counts(
    proxied: Collector, tmp_path: Path, new_report: NewReport
) -> None:
    device = proxied.enrol(tmp_path / "agent")
    report = new_report(device.device_id)
    body = json.dumps(report).encode()
    connection = http.client.HTTPConnection("127.0.0.1", proxied.port, timeout=10)
    try:
        connection.putrequest("POST", "/api/v1/reports")
        connection.putheader("Authorization", device.auth["Authorization"])
        connection.putheader("Content-Type", "application/json")
        connection.putheader("Content-Length", str(len(body)))
        connection.putheader("X-Forwarded-For", "198.18.0.1")  # written by the device
        connection.putheader("X-Forwarded-For", "203.0.113.9")  # added by the proxy
        connection.endheaders(body)
        response = connection.getresponse()
        assert response.status == 200, response.read()
    finally:
        connection.close()
    proxied.wait_for_report(report["report_id"])
    assert proxied.device(device.device_id)["last_source_ip"] == "203.0.113.9"
    assert net008(proxied, device)["status"] == "fail"
