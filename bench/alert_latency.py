"""Time from a violating report to the webhook receiving its alert, through a real collector.

For each database (SQLite in a temporary data directory, PostgreSQL in a temporary database on
127.0.0.1:5432) the bench registers and enrols DEVICES devices, starts the real `collector serve`
with `--alert-webhook` pointing at a receiver on loopback (http.server in this process), and for
each device in turn posts one report with the firewall off (SEC-002 fails: the device turns
non-compliant, one alert) and waits for the webhook to receive that device's alert. It reports:

  - report -> webhook   median, p95 and worst seconds from sending the report to the webhook
                        receiving the alert: the report's transaction, the delivery worker's
                        next look at the outbox (every OUTPOST_ALERT_POLL_S, 0.5 s by default),
                        its claim, and the POST;
  - floor               median of the report's own round trip (POST until the 200), the part
                        no alert can beat.

Each report is sent after a random pause (0 to twice the poll interval), so reports do not
arrive in step with the worker's looks.

Usage: .venv/bin/python bench/alert_latency.py [--devices N] [--databases sqlite,postgresql]
           [--polls 0.5,0.1]
Prints a Markdown table on stdout (progress on stderr); cleans up what it made.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import statistics
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests
from ingest import report_templates
from ingest_load import HOST, MARKERS, hostname, progress
from ingest_servers import BIN, Database, free_port, prepare, start_server, stop, temporary_database


class Receiver:
    """A webhook on loopback: device id -> time.monotonic() its first alert arrived."""

    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}
        self.changed = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with receiver.changed:
                    receiver.arrived.setdefault(body["device"]["id"], time.monotonic())
                    receiver.changed.notify_all()
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer((HOST, 0), Handler)
        self.url = f"http://{HOST}:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, device_id: str, timeout: float = 30.0) -> float:
        with self.changed:
            if not self.changed.wait_for(lambda: device_id in self.arrived, timeout):
                raise RuntimeError(f"no alert for {device_id} within {timeout} s")
            return self.arrived[device_id]


@dataclass
class Result:
    database: str
    devices: int
    poll_s: float
    latency_s: list[float]
    floor_s: list[float]


def machine(device_id: str) -> str:
    """The device's hardware id hash: enrolment binds the secret to it, reports carry it."""
    return hashlib.sha256(device_id.encode()).hexdigest()


def enrol_all(port: int, registered: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Enrol each registered device through the API -> [(device id, secret)]."""
    devices = []
    with requests.Session() as client:
        for index, (device_id, token) in enumerate(registered):
            answer = client.post(
                f"http://{HOST}:{port}/api/v1/enroll",
                json={"token": token, "hostname": hostname(index),
                      "hardware_id_hash": machine(device_id)},
                timeout=30,
            )  # fmt: skip
            answer.raise_for_status()
            devices.append((device_id, str(answer.json()["device_secret"])))
    return devices


def violating(template: str, device_id: str, index: int) -> bytes:
    body = json.loads(
        template.replace(MARKERS["report_id"], str(uuid.uuid4()))
        .replace(MARKERS["device_id"], device_id)
        .replace(MARKERS["hostname"], hostname(index))
        .replace(MARKERS["collected_at"], datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    )
    body["host"]["hardware_id_hash"] = machine(device_id)
    body["probes"]["device_security"]["status"] = "ok"
    body["probes"]["device_security"]["error"] = None
    data = body["probes"]["device_security"].get("data") or {}
    body["probes"]["device_security"]["data"] = {
        "disk_encrypted": data.get("disk_encrypted"),
        "disk_encryption_detail": data.get("disk_encryption_detail"),
        "firewall_enabled": False,
        "firewall_detail": "bench: firewall off",
        "screen_lock_enabled": data.get("screen_lock_enabled"),
        "screen_lock_detail": data.get("screen_lock_detail"),
        "gaps": {},
    }
    return json.dumps(body).encode()


def measure(database: Database, devices: int, poll_s: float, scratch: Path) -> Result:
    registered = prepare(database, devices)
    receiver = Receiver()
    port = free_port()
    log = scratch / f"collector-{database.kind}-{poll_s}.log"
    command = [str(BIN / "collector"), "serve", "--data-dir", str(database.data_dir)]
    if database.kind == "postgresql":
        command += ["--database-url", database.url]
    command += ["--port", str(port), "--alert-webhook", receiver.url]
    env = {k: v for k, v in os.environ.items() if not k.startswith("OUTPOST_")}
    env["OUTPOST_ALERT_POLL_S"] = str(poll_s)
    process = start_server(command, env, log, port)
    try:
        enrolled = enrol_all(port, registered)
        [template, *_] = report_templates()
        latency, floor = [], []
        pacing = random.Random(7)
        with requests.Session() as client:
            for index, (device_id, secret) in enumerate(enrolled):
                # Reports come at random moments, not in step with the worker's looks.
                time.sleep(pacing.uniform(0, 2 * poll_s))
                body = violating(template, device_id, index)
                headers = {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"}
                started = time.monotonic()
                answer = client.post(
                    f"http://{HOST}:{port}/api/v1/reports", data=body, headers=headers, timeout=30
                )
                answered = time.monotonic()
                answer.raise_for_status()
                if answer.json().get("state") != "non_compliant":
                    raise RuntimeError(f"the report left the device {answer.json()}")
                latency.append(receiver.wait(device_id) - started)
                floor.append(answered - started)
        progress(f"{database.kind}: {devices} alerts received")
        return Result(database.kind, devices, poll_s, latency, floor)
    finally:
        stop(process)
        receiver.server.shutdown()


def _p95(values: list[float]) -> float:
    return sorted(values)[max(0, round(0.95 * len(values)) - 1)]


def markdown(results: list[Result]) -> str:
    lines = [
        "| database | alerts | poll (s) | report -> webhook median | p95 | worst"
        " | floor: report round trip median |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]  # fmt: skip
    for r in results:
        lines.append(
            f"| {r.database} | {r.devices} | {r.poll_s:g} | {statistics.median(r.latency_s):.3f} s"
            f" | {_p95(r.latency_s):.3f} s | {max(r.latency_s):.3f} s"
            f" | {statistics.median(r.floor_s) * 1000:.1f} ms |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=30)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument(
        "--polls", default="0.5,0.1", help="OUTPOST_ALERT_POLL_S values, one run each"
    )
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="outpost-alert-bench-") as folder:
        scratch = Path(folder)
        for kind in args.databases.split(","):
            for poll in (float(p) for p in args.polls.split(",")):
                run = scratch / f"{kind}-{poll:g}"
                run.mkdir()
                with temporary_database(kind, run) as database:
                    results.append(measure(database, args.devices, poll, run))
    print(markdown(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
