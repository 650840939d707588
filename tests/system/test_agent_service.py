"""The agent in the field, with real processes: outages, kills, and a move onto an internal
network inside network namespaces made by the test."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests

pytestmark = pytest.mark.system

BIN = Path(sys.executable).parent
ENV = {**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> float:
    """Poll until check() holds; returns the seconds it took."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if check():
            return time.monotonic() - started
        time.sleep(0.2)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")


def cli(*args: str, stdin: str | None = None, prefix: tuple[str, ...] = ()) -> str:
    done = subprocess.run(
        [*prefix, *args], input=stdin, capture_output=True, text=True, env=ENV, timeout=120,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, f"{args}: {done.stderr}"
    return done.stdout.strip()


@dataclass
class Collector:
    """A `collector serve` process and what it takes to restart it and read its database."""

    data_dir: Path
    port: int
    host: str = "127.0.0.1"
    extra: tuple[str, ...] = ()
    process: subprocess.Popen[bytes] | None = None
    api_token: str = ""
    ca_file: str | None = None

    @property
    def url(self) -> str:
        scheme = "https" if self.ca_file else "http"
        return f"{scheme}://{self.host}:{self.port}"

    def start(self) -> None:
        argv = [str(BIN / "collector"), "serve", "--data-dir", str(self.data_dir)]
        argv += ["--host", self.host, "--port", str(self.port), *self.extra]
        self.process = subprocess.Popen(
            argv, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

        def healthy() -> bool:
            try:
                return requests.get(
                    f"{self.url}/healthz", timeout=1, verify=self.ca_file or True
                ).ok
            except requests.RequestException:
                return False

        wait_for(healthy, 30, "the collector to answer")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def device(self, device_id: str) -> dict[str, Any]:
        answer = requests.get(
            f"{self.url}/api/v1/devices/{device_id}",
            headers={"Authorization": f"Bearer {self.api_token}"},
            timeout=5,
            verify=self.ca_file or True,
        )
        answer.raise_for_status()
        result: dict[str, Any] = answer.json()
        return result

    def received_at(self, report_id: str) -> float:
        """When the collector received a report (seconds since the epoch)."""
        with sqlite3.connect(self.data_dir / "collector.db") as db:
            row = db.execute("SELECT received_at FROM reports WHERE id = ?", (report_id,))
            received = datetime.fromisoformat(str(row.fetchone()[0]))
        return (received if received.tzinfo else received.replace(tzinfo=UTC)).timestamp()

    def stored_reports(self, device_id: str) -> list[tuple[str, str]]:
        """(report id, collected_at) in the order the collector received them."""
        with sqlite3.connect(self.data_dir / "collector.db") as db:
            rows = db.execute(
                "SELECT id, collected_at FROM reports WHERE device_id = ? ORDER BY received_at",
                (device_id,),
            ).fetchall()
        return [(str(a), str(b)) for a, b in rows]


def new_collector(tmp_path: Path, *extra: str, host: str = "127.0.0.1") -> Collector:
    data = tmp_path / f"collector-{uuid.uuid4().hex[:6]}"
    collector = Collector(data_dir=data, port=free_port(), host=host, extra=extra)
    collector.api_token = cli(
        str(BIN / "collector"), "token", "create", "--name", "t", "--data-dir", str(data)
    ).splitlines()[-1]
    return collector


def enrol(collector: Collector, state: Path, prefix: tuple[str, ...] = ()) -> str:
    token = cli(
        str(BIN / "collector"), "device", "register", f"d-{uuid.uuid4().hex[:8]}",
        "--owner", "o", "--department", "d", "--approved-by", "h", "--justification", "test",
        "--expires", "2099-01-01", "--data-dir", str(collector.data_dir),
    ).splitlines()[-1]  # fmt: skip
    args = ["--state-dir", str(state), "enroll", "--server", collector.url, "--token", token]
    if collector.ca_file:
        args += ["--ca-file", collector.ca_file]
    cli(str(BIN / "agent"), *args, prefix=prefix)
    return str(json.loads((state / "enrolment.json").read_text())["device_id"])


def spool_depth(state: Path) -> int:
    return len(list((state / "spool").glob("*.json")))


@pytest.fixture
def collector(tmp_path: Path) -> Iterator[Collector]:
    made = new_collector(tmp_path)
    made.start()
    yield made
    made.stop()


def test_outage_every_report_arrives_once_in_order(collector: Collector, tmp_path: Path) -> None:
    state = tmp_path / "agent"
    device_id = enrol(collector, state)
    log = tmp_path / "agent.log"
    service = subprocess.Popen(
        [str(BIN / "agent"), "--state-dir", str(state), "run", "--interval", "2",
         "--log-file", str(log)],
        env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for(lambda: len(collector.stored_reports(device_id)) >= 1, 60, "a first report")
        collector.stop()
        wait_for(lambda: spool_depth(state) >= 3, 90, "three reports spooled during the outage")
        collector.start()
        wait_for(lambda: spool_depth(state) == 0, 120, "the spool to drain after the restart")
    finally:
        service.send_signal(signal.SIGTERM)
        service.wait(60)
    made = [line.split("report ")[1].split()[0] for line in log.read_text().splitlines()
            if "report " in line and (" accepted" in line or " is spooled" in line)]  # fmt: skip
    stored = collector.stored_reports(device_id)
    ids = [report_id for report_id, _ in stored]
    assert len(ids) == len(set(ids)), "a report was stored twice"
    assert set(made) <= set(ids), f"lost: {set(made) - set(ids)}"
    collected = [collected_at for _, collected_at in stored]
    assert collected == sorted(collected), "reports arrived out of order"
    assert collector.device(device_id)["reports_received"] == len(ids)
    assert "signal 15" in log.read_text() and "agent service stopped" in log.read_text()


class HoldingProxy:
    """Forwards to the collector; while `hold` is set, swallows the collector's answers, so an
    agent waits for an answer to a report the collector has already stored."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.hold = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            threading.Thread(target=self._pipe, args=(client, upstream, False), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, True), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket, answers: bool) -> None:
        try:
            while data := source.recv(65536):
                if answers and self.hold.is_set():
                    continue  # the answer is lost on the way back
                sink.sendall(data)
        except OSError:
            return
        finally:
            sink.close()

    def close(self) -> None:
        self.listener.close()


def test_sigkill_during_send_loses_nothing_doubles_nothing(
    collector: Collector, tmp_path: Path
) -> None:
    proxy = HoldingProxy(collector.port)
    state = tmp_path / "agent"
    real = Collector(collector.data_dir, proxy.port, api_token=collector.api_token)
    device_id = enrol(real, state)  # the agent knows the collector only through the proxy
    proxy.hold.set()
    sender = subprocess.Popen(
        [str(BIN / "agent"), "--state-dir", str(state), "send"],
        env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for(lambda: len(collector.stored_reports(device_id)) == 1, 60, "the report stored")
        assert sender.poll() is None, "the agent should still be waiting for the answer"
        sender.send_signal(signal.SIGKILL)
        sender.wait(10)
    finally:
        proxy.hold.clear()
    assert spool_depth(state) == 1, "the killed send must leave its report in the spool"
    cli(str(BIN / "agent"), "--state-dir", str(state), "send", "--flush-only")
    assert spool_depth(state) == 0
    stored = collector.stored_reports(device_id)
    assert len(stored) == 1, f"stored {len(stored)} times"
    assert collector.device(device_id)["reports_received"] == 1
    proxy.close()


# -- network namespaces -------------------------------------------------------------------


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=30)


@dataclass
class Namespace:
    name: str
    host_if: str
    agent_if: str

    def exec(self) -> tuple[str, ...]:
        return ("ip", "netns", "exec", self.name)


@pytest.fixture
def public_namespace() -> Iterator[Namespace]:
    """An agent namespace on a 'public' link 203.0.113.0/24; the host side is 203.0.113.1."""
    assert os.geteuid() == 0, "network namespace tests need root (CI runs them as root)"
    assert shutil.which("ip"), "iproute2 is required"
    tag = uuid.uuid4().hex[:6]
    ns = Namespace(f"outpost-{tag}", f"oph{tag}", f"opa{tag}")
    ip("netns", "add", ns.name)
    try:
        ip("link", "add", ns.host_if, "type", "veth", "peer", "name", ns.agent_if)
        ip("link", "set", ns.agent_if, "netns", ns.name)
        ip("addr", "add", "203.0.113.1/24", "dev", ns.host_if)
        ip("link", "set", ns.host_if, "up")
        ip("-n", ns.name, "link", "set", "lo", "up")
        ip("-n", ns.name, "addr", "add", "203.0.113.2/24", "dev", ns.agent_if)
        ip("-n", ns.name, "link", "set", ns.agent_if, "up")
        ip("-n", ns.name, "route", "add", "default", "via", "203.0.113.1")
        yield ns
    finally:
        subprocess.run(["ip", "netns", "del", ns.name], check=False, capture_output=True)
        subprocess.run(["ip", "link", "del", ns.host_if], check=False, capture_output=True)


NETWORK_ONLY_POLICY = """
[organisation]
name = "Namespace test"
domains = ["example.ac.uk"]
[network]
internal_cidrs = ["198.51.100.0/24"]
egress_cidrs = ["192.0.2.128/25"]
ssids = ["eduroam"]
""" + "".join(
    f"[rules.{rule}]\nenabled = false\n"
    for rule in (
        "ACC-001",
        "PATCH-001",
        "PATCH-002",
        "PATCH-003",
        "PATCH-004",
        "SEC-001",
        "SEC-002",
        "SEC-003",
        "CRED-001",
    )
)


def tls_certificate(folder: Path, address: str) -> tuple[str, str]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-keyout", str(key), "-out", str(cert), "-subj", f"/CN={address}",
         "-addext", f"subjectAltName=IP:{address}"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return str(cert), str(key)


def service_decided_at(log: Path, after: float) -> float:
    """When the service logged 'network changed: reporting now' at or after `after` (epoch
    seconds; the log's local-time stamps have milliseconds), or NaN if it has not."""
    for line in log.read_text(errors="replace").splitlines():
        if "network changed: reporting now" in line:
            stamp = datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f").timestamp()
            if stamp >= after - 0.001:
                return stamp
    return float("nan")


@pytest.mark.parametrize("move", ["gateway", "address"])
def test_moving_onto_an_internal_network_shows_within_30_seconds(
    public_namespace: Namespace, tmp_path: Path, move: str
) -> None:
    ns = public_namespace
    policy = tmp_path / "policy.toml"
    policy.write_text(NETWORK_ONLY_POLICY)
    cert, key = tls_certificate(tmp_path, "203.0.113.1")
    collector = new_collector(
        tmp_path, "--policy", str(policy), "--tls-cert", cert, "--tls-key", key, host="203.0.113.1"
    )
    collector.ca_file = cert
    collector.start()
    state = tmp_path / "agent"
    service: subprocess.Popen[bytes] | None = None
    try:
        device_id = enrol(collector, state, prefix=ns.exec())
        cli(str(BIN / "agent"), "--state-dir", str(state), "send", prefix=ns.exec())
        before = collector.device(device_id)
        rules = {r["id"]: r["status"] for r in before["rules"]}
        assert (rules["NET-001"], rules["NET-002"]) == ("pass", "pass")
        assert before["state"] == "compliant", before["failing_rules"]
        service = subprocess.Popen(
            [*ns.exec(), str(BIN / "agent"), "--state-dir", str(state), "--policy", str(policy),
             "run", "--interval", "3600", "--log-file", str(tmp_path / "agent.log")],
            env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        time.sleep(3)  # the service takes its first network fingerprint
        moved = time.time()
        if move == "gateway":
            ip("-n", ns.name, "route", "replace", "default", "via", "198.51.100.1", "dev",
               ns.agent_if, "onlink")  # fmt: skip
            expected = "NET-002"
        else:
            ip("-n", ns.name, "addr", "add", "198.51.100.7/24", "dev", ns.agent_if)
            expected = "NET-001"

        def flagged() -> bool:
            device = collector.device(device_id)
            return device["state"] == "non_compliant" and expected in device["failing_rules"]

        took = wait_for(flagged, 30, f"{expected} to fail on the collector")
        stored = collector.received_at(collector.stored_reports(device_id)[-1][0]) - moved
        decided = service_decided_at(tmp_path / "agent.log", moved) - moved
        # Printed, not only asserted (pytest -s shows it); bench/netchange.py records the
        # distribution over repeated moves in docs/benchmarks.md.
        print(
            f"\nnetwork change ({move}): {expected} failing on the collector after {took:.2f} s; "
            f"the service decided to report {decided:.2f} s after the move, the report was "
            f"stored at {stored:.2f} s, shown by the API {took - stored:.2f} s later (polled "
            "every 0.2 s)"
            + (" - a scheduled report already under way carried the change" if stored < decided
               else "")
        )  # fmt: skip
        assert took < 30
    finally:
        if service is not None:
            service.send_signal(signal.SIGTERM)
            service.wait(60)
        collector.stop()
