"""The sweeper against the collector's responsiveness: DEVICES devices go stale at once.

For each database (SQLite in a temporary data directory, PostgreSQL in a temporary database on
127.0.0.1:5432) the bench creates DEVICES devices that reported just now (bulk INSERT: the
register function would take minutes), starts the real `collector serve` (--workers 1), polls
/healthz for a few seconds with no sweep due (the floor), then makes every device due at once
(one UPDATE of last_seen_at to three days ago) and keeps polling /healthz every 10 ms until
every device is stale. It reports:

  - due -> all stale   seconds from the UPDATE to the last device stale: the wait for the next
                       pass (this checkout: OUTPOST_SWEEP_INTERVAL_S=1; a baseline without the
                       setting passes once a minute, so up to 60 s more) plus the pass itself;
                       ("never": not within --timeout, 300 s);
  - pass               seconds from the first device stale to the last one (one transaction, as
                       in the baseline, shows 0: see the worst /healthz instead);
  - /healthz           worst and median latency of the polls during the sweep, beside the same
                       figures with no sweep (floor), and how many polls answered non-200.

--baseline DIR runs the same against another build (a tree with agent/ and server_stub/, e.g.
`git archive COMMIT agent server_stub | tar -x -C DIR`), served by this virtualenv with DIR first
on PYTHONPATH, after this checkout on a fresh copy of the same data.

Usage: .venv/bin/python bench/sweep.py [--devices N] [--databases sqlite,postgresql]
           [--baseline DIR] [--timeout S]
Prints a Markdown table on stdout (progress on stderr); cleans up what it made.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import requests
from ingest_load import HOST, progress
from ingest_servers import BIN, REPO, Database, free_port, start_server, stop, temporary_database
from sqlalchemy import Engine

from server_stub.storage.db import make_engine

POLL_S = 0.01
# How often the bench counts stale devices: the pass's end is known to within this.
COUNT_S = 0.25
FLOOR_S = 3.0


@dataclass
class Result:
    target: str
    kind: str
    devices: int
    due_to_all_s: float | None  # None: not all swept within --timeout
    pass_s: float
    worst_ms: float
    p99_ms: float
    median_ms: float
    polls: int
    bad: int
    floor_worst_ms: float
    floor_median_ms: float


def populate(url: str, count: int) -> None:
    """Migrate, then COUNT fresh devices in batches of 10,000 rows."""
    from sqlalchemy import insert

    from server_stub.storage.db import make_engine, upgrade
    from server_stub.storage.tables import Device

    engine = make_engine(url)
    try:
        upgrade(engine)
        now = datetime.now(UTC)
        for start in range(0, count, 10_000):
            rows = [
                {
                    "id": str(uuid.uuid4()),
                    "name": f"bench-{n:06d}",
                    "owner": "bench",
                    "department": "Benchmarks",
                    "approved_by": "Head of Benchmarks",
                    "justification": "sweep bench",
                    "approval_expires": date(2099, 12, 31),
                    "registered_at": now,
                    "state": "compliant",
                    "failing_rules": [],
                    "reports_received": 1,
                    "last_seen_at": now,
                }
                for n in range(start, min(count, start + 10_000))
            ]
            with engine.begin() as connection:
                connection.execute(insert(Device), rows)
    finally:
        engine.dispose()


def _populate_as(tree: str | None, database: Database, count: int) -> None:
    """populate() with the build under test's own code (its migrations are the ones its
    collector expects to find), in a child process with that tree first on PYTHONPATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OUTPOST_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (tree, str(REPO)) if p)
    script = "import sys; from sweep import populate; populate(sys.argv[1], int(sys.argv[2]))"
    subprocess.run(
        [sys.executable, "-c", script, database.url, str(count)],
        check=True, cwd=Path(__file__).parent, env=env,
    )  # fmt: skip


def _count_stale(engine: Engine) -> int:
    """One connection kept for the whole sweep: the bench's own polling must not load the
    machine it measures (a new engine per count forked a PostgreSQL backend every time)."""
    from sqlalchemy import text

    with engine.connect() as connection:
        return int(connection.scalar(text("SELECT count(*) FROM devices WHERE state='stale'")))


def _make_due(database: Database) -> None:
    from sqlalchemy import update

    from server_stub.storage.db import make_engine
    from server_stub.storage.tables import Device

    engine = make_engine(database.url)
    try:
        with engine.begin() as connection:
            long_ago = datetime.now(UTC) - timedelta(days=3)
            connection.execute(update(Device).values(last_seen_at=long_ago))
    finally:
        engine.dispose()


def _poll(port: int, stop_polling: threading.Event, latencies: list[float], bad: list[int]) -> None:
    session = requests.Session()
    while not stop_polling.is_set():
        began = time.perf_counter()
        try:
            ok = session.get(f"http://{HOST}:{port}/healthz", timeout=600).status_code == 200
        except requests.RequestException:
            ok = False
        latencies.append(time.perf_counter() - began)
        if not ok:
            bad.append(1)
        time.sleep(POLL_S)


def _start(
    database: Database, scratch: Path, target: str, baseline: str | None
) -> tuple[subprocess.Popen[bytes], int, Path]:
    port = free_port()
    log = scratch / f"{target}-{database.kind}.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("OUTPOST_")}
    env["OUTPOST_SWEEP_INTERVAL_S"] = "1"  # a baseline without the setting ignores it
    if baseline:
        env["PYTHONPATH"] = baseline
    command = [str(BIN / "collector"), "serve", "--data-dir", str(database.data_dir)]
    if database.kind == "postgresql":
        command += ["--database-url", database.url]
    process = start_server([*command, "--port", str(port)], env, log, port)
    return process, port, log


Poller = tuple[threading.Thread, threading.Event]


def _poller(port: int, latencies: list[float], bad: list[int]) -> Poller:
    stop_polling = threading.Event()
    poller = threading.Thread(target=_poll, args=(port, stop_polling, latencies, bad), daemon=True)
    poller.start()
    return poller, stop_polling


def measure(
    kind: str, devices: int, target: str, baseline: str | None, scratch: Path, timeout: float
) -> Result:
    with temporary_database(kind, scratch / target) as database:
        progress(f"{kind} {target}: creating {devices} devices")
        _populate_as(baseline, database, devices)
        process, port, _ = _start(database, scratch, target, baseline)
        stop_polling = threading.Event()
        try:
            floor: list[float] = []
            poller, stop_polling = _poller(port, floor, [])
            time.sleep(FLOOR_S)
            stop_polling.set()
            poller.join()
            progress(f"{kind} {target}: all due; sweeping")
            during: list[float] = []
            bad: list[int] = []
            poller, stop_polling = _poller(port, during, bad)
            due = time.perf_counter()
            _make_due(database)
            first, swept = None, True
            counter = make_engine(database.url)
            while (stale := _count_stale(counter)) < devices:
                if stale and first is None:
                    first = time.perf_counter()
                if time.perf_counter() > due + timeout:
                    progress(f"{kind} {target}: not swept in {timeout:.0f} s ({stale} stale)")
                    swept = False
                    break
                time.sleep(COUNT_S)
            done = time.perf_counter()
            counter.dispose()
        finally:
            stop_polling.set()
            stop(process)
    return Result(
        target, kind, devices, done - due if swept else None, done - (first or done),
        max(during) * 1000, _p99(during) * 1000, statistics.median(during) * 1000,
        len(during), len(bad),
        max(floor) * 1000, statistics.median(floor) * 1000,
    )  # fmt: skip


def _p99(latencies: list[float]) -> float:
    return statistics.quantiles(latencies, n=100)[98] if len(latencies) > 1 else latencies[0]


def markdown(results: list[Result]) -> str:
    lines = [
        "| database | build | devices | due -> all stale (s) | pass (s) "
        "| /healthz worst (ms) | /healthz p99 (ms) | /healthz median (ms) | polls (non-200) "
        "| floor worst / median (ms) |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        lines.append(
            f"| {r.kind} | {r.target} | {r.devices:,} "
            f"| {'never' if r.due_to_all_s is None else f'{r.due_to_all_s:.1f}'} | {r.pass_s:.1f} "
            f"| {r.worst_ms:.0f} | {r.p99_ms:.0f} | {r.median_ms:.1f} | {r.polls} ({r.bad}) "
            f"| {r.floor_worst_ms:.0f} / {r.floor_median_ms:.1f} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=100_000)
    parser.add_argument("--databases", default="postgresql,sqlite")
    parser.add_argument("--baseline", metavar="DIR", help="another build's source tree")
    parser.add_argument("--timeout", type=float, default=300.0, help="give up a sweep after (s)")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="outpost-sweep-") as folder:
        scratch = Path(folder)
        for kind in args.databases.split(","):
            targets = [("this checkout", None)]
            if args.baseline:
                targets.append(("baseline", str(Path(args.baseline).resolve())))
            for target, tree in targets:
                (scratch / target).mkdir(exist_ok=True)
                results.append(measure(kind, args.devices, target, tree, scratch, args.timeout))
                progress(markdown(results[-1:]))
    print(markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
