"""Two collectors on one PostgreSQL database behind a real nginx (TLS, round robin), trusted.

Agents live in a network namespace at 198.51.100.202 and reach nginx at 198.51.100.201; nginx passes
their address in X-Forwarded-For to collectors that trust only 127.0.0.1. Every report is stored
once whichever collector took it; NET-008 sees the agent's address only because nginx is
trusted; a forged X-Forwarded-For is believed neither from an untrusted peer nor left of nginx's.
test_collector_proxy.py covers the header parsing itself against one collector without nginx.
"""

from __future__ import annotations

import concurrent.futures
import http.client
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import text

from tests.system.conftest import (
    AGENT,
    Collector,
    EnrolledDevice,
    clean_env,
    free_port,
    write_policy,
)
from tests.system.pg import PgServer, database_name
from tests.system.soak import MADE, spooled

pytestmark = [pytest.mark.system, pytest.mark.root]

NewReport = Callable[[str], dict[str, Any]]
# A /29 of TEST-NET-2 of its own: TEST-NET-1 may be this machine's own link (192.0.2.0/24) and
# 203.0.113.0/24 is the agent service tests'; a namespace's host side must not collide with a
# live route.
HOST_ADDR, AGENT_ADDR = "198.51.100.201", "198.51.100.202"
EGRESS = "198.51.100.200/29"  # the agents' link plays the organisation's egress range
POLICY = f"""\
[organisation]
name = "Test University"

[network]
internal_cidrs = ["10.0.0.0/8"]
egress_cidrs = ["{EGRESS}"]
"""
NGINX_CONF = """\
worker_processes 1;
pid nginx.pid;
error_log error.log notice;
events {{ worker_connections 256; }}
http {{
    access_log access.log;
    client_body_temp_path tmp/body;
    proxy_temp_path tmp/proxy;
    fastcgi_temp_path tmp/fastcgi;
    uwsgi_temp_path tmp/uwsgi;
    scgi_temp_path tmp/scgi;
    upstream collectors {{
        server 127.0.0.1:{port_a};
        server 127.0.0.1:{port_b};
    }}
    server {{
        listen {host}:{port} ssl;
        ssl_certificate {folder}/cert.pem;
        ssl_certificate_key {folder}/key.pem;
        client_max_body_size 2m;
        location / {{
            proxy_pass http://collectors;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            # Appends the peer's address to whatever the client wrote: the collector walks the
            # list from the right, so a forged left hop changes nothing.
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
        }}
    }}
}}
"""
AGENTS = 4
SENDS_PER_AGENT = 2
SAME_REPORT_ROUNDS = 8


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=30)


@dataclass(frozen=True)
class Namespace:
    name: str
    host_if: str

    def exec(self) -> list[str]:
        return ["ip", "netns", "exec", self.name]


@pytest.fixture(scope="module")
def namespace() -> Iterator[Namespace]:
    """The agents' namespace: 198.51.100.202 on a veth whose host side is 198.51.100.201."""
    assert os.geteuid() == 0, "network namespace tests need root (CI runs them as root)"
    assert shutil.which("ip"), "iproute2 is required (.ci/run installs it)"
    tag = uuid.uuid4().hex[:6]
    made = Namespace(f"outpost-2c-{tag}", f"o2h{tag}")
    agent_if = f"o2a{tag}"
    ip("netns", "add", made.name)
    try:
        ip("link", "add", made.host_if, "type", "veth", "peer", "name", agent_if)
        ip("link", "set", agent_if, "netns", made.name)
        ip("addr", "add", f"{HOST_ADDR}/29", "dev", made.host_if)
        ip("link", "set", made.host_if, "up")
        ip("-n", made.name, "link", "set", "lo", "up")
        ip("-n", made.name, "addr", "add", f"{AGENT_ADDR}/29", "dev", agent_if)
        ip("-n", made.name, "link", "set", agent_if, "up")
        yield made
    finally:
        subprocess.run(["ip", "netns", "del", made.name], check=False, capture_output=True)
        subprocess.run(["ip", "link", "del", made.host_if], check=False, capture_output=True)


@dataclass
class Nginx:
    folder: Path
    port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"https://{HOST_ADDR}:{self.port}"

    @property
    def ca_file(self) -> str:
        return str(self.folder / "cert.pem")

    def log(self) -> str:
        path = self.folder / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""


@dataclass
class Pair:
    a: Collector
    b: Collector
    nginx: Nginx


@pytest.fixture(scope="module")
def pair(
    namespace: Namespace, pg_server: PgServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Pair]:
    """Collectors A and B on one database, and nginx in front of both on 198.51.100.201."""
    assert shutil.which("nginx"), "nginx is required (apt-get install nginx; .ci/run does)"
    root = tmp_path_factory.mktemp("two-collectors")
    policy = write_policy(root / "org.toml", POLICY)
    url = pg_server.create_database()
    args = ("--policy", str(policy), "--trusted-proxy", "127.0.0.1/32")
    collectors: list[Collector] = []
    # nginx's workers run as nobody and must reach their temp dirs: not under pytest's 0700 tree.
    folder = Path(tempfile.mkdtemp(prefix="outpost-nginx-"))
    folder.chmod(0o755)
    process: subprocess.Popen[bytes] | None = None
    try:
        for side in ("a", "b"):
            (root / side).mkdir()
            collector = Collector("postgresql", root / side, url, free_port(), args)
            collectors.append(collector)
            collector.start()  # B migrates after A: the migration lock makes it a no-op
        token = collectors[0].cli("token", "create", "--name", "two-collectors")
        assert token.returncode == 0, token.stderr
        for collector in collectors:
            collector.admin_token = token.stdout.strip().splitlines()[-1]
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
             "-keyout", str(folder / "key.pem"), "-out", str(folder / "cert.pem"),
             "-subj", f"/CN={HOST_ADDR}", "-addext", f"subjectAltName=IP:{HOST_ADDR}"],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
        (folder / "tmp").mkdir()
        port = free_port()
        conf = NGINX_CONF.format(
            port_a=collectors[0].port,
            port_b=collectors[1].port,
            host=HOST_ADDR,
            port=port,
            folder=folder,
        )
        (folder / "nginx.conf").write_text(conf)
        process = subprocess.Popen(
            ["nginx", "-p", f"{folder}/", "-c", str(folder / "nginx.conf"), "-e", "stderr",
             "-g", "daemon off;"],
            stdout=subprocess.DEVNULL, stderr=(folder / "stderr.log").open("wb"),
        )  # fmt: skip
        nginx = Nginx(folder, port, process)
        deadline = time.monotonic() + 15
        while True:
            try:
                health = requests.get(nginx.url + "/healthz", verify=nginx.ca_file, timeout=2)
                if health.status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert process.poll() is None, (folder / "stderr.log").read_text()
            assert time.monotonic() < deadline, "nginx did not answer:\n" + nginx.log()
            time.sleep(0.2)
        yield Pair(collectors[0], collectors[1], nginx)
    finally:
        if process is not None:
            process.send_signal(signal.SIGQUIT)  # graceful: master and workers
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
        for collector in collectors:
            collector.stop()
        pg_server.drop_database(database_name(url))
        shutil.rmtree(folder, ignore_errors=True)


def in_namespace(ns: Namespace, state: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*ns.exec(), AGENT, "--state-dir", str(state), *args],
        capture_output=True, text=True, timeout=180, env=clean_env(), check=False,
    )  # fmt: skip


def enrol_in_namespace(pair: Pair, ns: Namespace, state: Path) -> EnrolledDevice:
    registration = pair.a.register()
    done = in_namespace(
        ns, state, "enroll", "--server", pair.nginx.url, "--token", registration.token,
        "--ca-file", pair.nginx.ca_file,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    secret = (state / "device_secret").read_text().strip()
    return EnrolledDevice(registration.name, registration.device_id, state, secret)


def accepted(collector: Collector) -> float:
    return collector.metrics()['outpost_reports_total{outcome="accepted"}']


def rows_for(collector: Collector, device_id: str) -> list[tuple[str, str]]:
    with collector.engine.connect() as conn:
        found = conn.execute(
            text("SELECT id, source_ip FROM reports WHERE device_id = :d"), {"d": device_id}
        )
        return [(str(r[0]), str(r[1])) for r in found]


def net008(collector: Collector, device_id: str) -> dict[str, Any]:
    rules = {rule["id"]: rule for rule in collector.device(device_id)["rules"]}
    rule: dict[str, Any] = rules["NET-008"]
    return rule


def test_agents_through_nginx_are_stored_once_with_their_own_address(
    pair: Pair, namespace: Namespace, tmp_path: Path, new_report: NewReport
) -> None:
    before = accepted(pair.a), accepted(pair.b)
    devices = [enrol_in_namespace(pair, namespace, tmp_path / f"agent-{n}") for n in range(AGENTS)]

    def keep_sending(device: EnrolledDevice) -> list[str]:
        made = []
        for _ in range(SENDS_PER_AGENT):
            done = in_namespace(namespace, device.state_dir, "send")
            assert done.returncode == 0, done.stdout + done.stderr
            made += MADE.findall(done.stdout + done.stderr)
        return made

    with concurrent.futures.ThreadPoolExecutor(AGENTS) as pool:
        made_by = dict(zip(devices, pool.map(keep_sending, devices), strict=True))
    for device, made in made_by.items():
        assert len(made) == SENDS_PER_AGENT
        assert not spooled(device.state_dir), "every report went through nginx at once"
        stored = rows_for(pair.a, device.device_id)
        assert sorted(r for r, _ in stored) == sorted(made), "each report stored exactly once"
        assert {source for _, source in stored} == {AGENT_ADDR}
        detail = pair.b.device(device.device_id)  # either collector reads the same database
        assert detail["reports_received"] == SENDS_PER_AGENT
        assert detail["last_source_ip"] == AGENT_ADDR
        rule = net008(pair.a, device.device_id)
        assert rule["status"] == "fail", rule
        assert AGENT_ADDR in " ".join(rule["evidence"])
    after = accepted(pair.a), accepted(pair.b)
    assert sum(after) - sum(before) == AGENTS * SENDS_PER_AGENT
    # Both collectors take reports: of two reports in a row through nginx (round robin, one
    # worker, nothing else in flight), one goes to each. The agents' own traffic above mixes
    # reports with policy fetches, so how it splits between the two is chance.
    direct = pair.a.enrol(tmp_path / "direct")
    before = accepted(pair.a), accepted(pair.b)
    for _ in range(2):
        answer = requests.post(
            pair.nginx.url + "/api/v1/reports",
            json=new_report(direct.device_id),
            headers=direct.auth,
            verify=pair.nginx.ca_file,
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
    after = accepted(pair.a), accepted(pair.b)
    assert (after[0] - before[0], after[1] - before[1]) == (1, 1), f"{before} -> {after}"


def test_the_same_report_at_both_collectors_at_once_is_stored_once(
    pair: Pair, tmp_path: Path, new_report: NewReport
) -> None:
    device = pair.a.enrol(tmp_path / "agent")  # enrolled directly, on loopback
    for _ in range(SAME_REPORT_ROUNDS):
        report = new_report(device.device_id)
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            calls = [pool.submit(c.post_report, device.auth, report) for c in (pair.a, pair.b)]
            answers = [call.result() for call in calls]
        assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
        assert sorted(a.json()["duplicate"] for a in answers) == [False, True]
    stored = rows_for(pair.a, device.device_id)
    assert len(stored) == SAME_REPORT_ROUNDS
    assert pair.a.device(device.device_id)["reports_received"] == SAME_REPORT_ROUNDS


def post_from(
    source: str, port: int, device: EnrolledDevice, report: dict[str, Any], forwarded: str
) -> int:
    """POST straight to a collector from a chosen loopback source address."""
    body = json.dumps(report).encode()
    connection = http.client.HTTPConnection(
        "127.0.0.1", port, timeout=30, source_address=(source, 0)
    )
    try:
        connection.request(
            "POST",
            "/api/v1/reports",
            body=body,
            headers={
                "Authorization": device.auth["Authorization"],
                "Content-Type": "application/json",
                "X-Forwarded-For": forwarded,
            },
        )
        return connection.getresponse().status
    finally:
        connection.close()


def test_a_forged_forwarded_for_from_an_untrusted_peer_is_not_believed(
    pair: Pair, tmp_path: Path, new_report: NewReport
) -> None:
    """127.0.0.2 is this machine but not the trusted proxy (127.0.0.1/32): it claims to forward
    for an egress address and then for a public one; the collector keeps the peer's address."""
    device = pair.a.enrol(tmp_path / "agent")
    for collector, claimed in ((pair.a, "198.51.100.205"), (pair.b, "198.51.100.20")):
        report = new_report(device.device_id)
        assert post_from("127.0.0.2", collector.port, device, report, claimed) == 200
        collector.wait_for_report(report["report_id"])
        stored = collector.scalar(
            "SELECT source_ip FROM reports WHERE id = :r", r=report["report_id"]
        )
        assert stored == "127.0.0.2"
        assert collector.device(device.device_id)["last_source_ip"] == "127.0.0.2"
    assert net008(pair.a, device.device_id)["status"] == "pass"


def test_a_forged_left_hop_through_nginx_cannot_hide_the_real_address(
    pair: Pair, tmp_path: Path, new_report: NewReport
) -> None:
    """From this host to nginx on 198.51.100.201 (an egress address): the client writes a public
    address itself; nginx appends the one it saw, and that is the one the collector keeps."""
    device = pair.a.enrol(tmp_path / "agent")
    report = new_report(device.device_id)
    answer = requests.post(
        pair.nginx.url + "/api/v1/reports",
        data=json.dumps(report),
        headers={
            **device.auth,
            "Content-Type": "application/json",
            "X-Forwarded-For": "198.51.100.20",
        },
        verify=pair.nginx.ca_file,
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    pair.a.wait_for_report(report["report_id"])
    assert pair.a.device(device.device_id)["last_source_ip"] == HOST_ADDR
    rule = net008(pair.a, device.device_id)
    assert rule["status"] == "fail" and HOST_ADDR in " ".join(rule["evidence"])
