"""Outbox throughput: DEVICES devices go stale at once and every alert reaches the webhook.

For each database (SQLite in a temporary data directory, PostgreSQL in a temporary database on
127.0.0.1:5432) the bench creates DEVICES devices that reported just now (bench/sweep.py's bulk
INSERT), starts the real `collector serve` (sweeping every second, OUTPOST_SWEEP_INTERVAL_S=1)
with `--alert-webhook` pointing at a receiver on loopback, then makes every device due with one
UPDATE. The sweep marks them stale and writes one alert each in the same transactions; the
delivery worker fans them out and sends them. It reports, in seconds from the UPDATE:

  - all stale          the sweep done (the floor: the alerts cannot be written before it);
  - alerts written     every alert in the outbox;
  - all delivered      the webhook has received every alert (distinct idempotency keys; a
                       repeat would be counted apart);
  - rate               alerts delivered per second, from the first to the last;
  - repeats            webhook requests beyond one per alert (expected: 0).

Usage: .venv/bin/python bench/alert_throughput.py [--devices N] [--databases sqlite,postgresql]
Prints a Markdown table on stdout (progress on stderr); cleans up what it made.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from ingest_load import HOST, progress
from ingest_servers import BIN, Database, free_port, start_server, stop, temporary_database
from sweep import _make_due, populate


class Receiver:
    """A webhook on loopback counting alerts by idempotency key."""

    def __init__(self) -> None:
        self.keys: dict[str, float] = {}
        self.requests = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with receiver.lock:
                    receiver.requests += 1
                    receiver.keys.setdefault(body["idempotency_key"], time.monotonic())
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer((HOST, 0), Handler)
        self.url = f"http://{HOST}:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@dataclass
class Result:
    database: str
    devices: int
    stale_s: float
    written_s: float
    delivered_s: float
    rate: float
    repeats: int


def _count(database: Database, sql: str) -> int:
    from sqlalchemy import text

    from server_stub.storage.db import make_engine

    engine = make_engine(database.url)
    try:
        with engine.connect() as connection:
            return int(connection.scalar(text(sql)) or 0)
    finally:
        engine.dispose()


def measure(kind: str, devices: int, scratch: Path, timeout: float) -> Result:
    with temporary_database(kind, scratch) as database:
        progress(f"{kind}: creating {devices} devices")
        populate(database.url, devices)
        receiver = Receiver()
        port = free_port()
        log = scratch / f"collector-{kind}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("OUTPOST_")}
        env["OUTPOST_SWEEP_INTERVAL_S"] = "1"
        command = [str(BIN / "collector"), "serve", "--data-dir", str(database.data_dir)]
        if kind == "postgresql":
            command += ["--database-url", database.url]
        command += ["--port", str(port), "--alert-webhook", receiver.url]
        process = start_server(command, env, log, port)
        try:
            began = time.monotonic()
            _make_due(database)
            stale = written = None
            deadline = began + timeout
            while len(receiver.keys) < devices:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{len(receiver.keys)} of {devices} alerts in {timeout} s")
                now = time.monotonic()
                if (
                    stale is None
                    and _count(database, "SELECT count(*) FROM devices WHERE state = 'stale'")
                    == devices
                ):
                    stale = now - began
                if written is None and _count(database, "SELECT count(*) FROM alerts") == devices:
                    written = now - began
                time.sleep(0.2)
            times = sorted(receiver.keys.values())
            time.sleep(1.0)  # a repeat would arrive now
            progress(f"{kind}: {len(receiver.keys)} alerts delivered")
            return Result(
                kind,
                devices,
                stale if stale is not None else times[-1] - began,
                written if written is not None else times[-1] - began,
                times[-1] - began,
                (len(times) - 1) / max(times[-1] - times[0], 1e-9),
                receiver.requests - len(receiver.keys),
            )
        finally:
            stop(process)
            receiver.server.shutdown()


def markdown(results: list[Result]) -> str:
    lines = [
        "| database | devices | all stale (s) | alerts written (s) | all delivered (s)"
        " | rate (alerts/s) | repeats |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        lines.append(
            f"| {r.database} | {r.devices:,} | {r.stale_s:.1f} | {r.written_s:.1f}"
            f" | {r.delivered_s:.1f} | {r.rate:.0f} | {r.repeats} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--timeout", type=float, default=600.0)
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="outpost-alert-throughput-") as folder:
        for kind in args.databases.split(","):
            run = Path(folder) / kind
            run.mkdir()
            results.append(measure(kind, args.devices, run, args.timeout))
    print(markdown(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
