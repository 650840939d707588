"""Collector ingest: POST /api/v1/reports against its floor, on SQLite and PostgreSQL.

For each database (SQLite in a temporary data directory, PostgreSQL in a temporary database on
127.0.0.1:5432) the bench registers DEVICES devices, enrols each over HTTP, then measures, for
--workers 1 and 2, three servers on that same database:

  - collector   `collector serve --workers N`: authentication, schema validation, dedupe,
                evaluation, rule states and history, exactly as in production;
  - floor       bench/ingest_floor.py `app`, served by uvicorn with the options `collector
                serve` gives it (taken from serve() itself) and the same worker count: a bare
                ASGI endpoint that only inserts the body into a table with the same columns as
                `reports`, one autocommitted INSERT per request;
  - floor-batching  the same endpoint writing the way the collector does (`batched_app`): group
                commit with the collector's own GroupCommit, the rows that arrive while one
                transaction is written form the next. The collector cannot be faster than this.

For each worker count the three servers are up at once and take the load in turn, --rounds
times (collector, floor, batching floor, collector, ...): only the one under load works, and a
round's three windows lie seconds apart, so other work on the machine weighs on all three alike.
The table gives each target's median over the rounds, and each ratio to a floor as the median
of the rounds' own ratios.

The load comes from a second process (this file with --load-spec): CONCURRENCY keep-alive
connections, each sending one report at a time (closed loop), warm-up first, then a measured
window. Every request is a realistic report from `agent facts --json` with a fresh uuid4
report_id, the device's id, hostname and secret, and the current collected_at; devices are used
round-robin, skipping any with a report still in flight (an agent sends one at a time), and one
report in ten flips the device's pending security updates so rule states and history change as
in a real fleet. A request unanswered after 10 s counts as an error, as does any status but 200.

Devices are registered with the function `collector device register` calls, in-process (200
CLI start-ups would take minutes), and enrolled over HTTP with POST /api/v1/enroll.

The client is a minimal HTTP/1.1 writer/reader on asyncio streams rather than httpx or
requests: on two cores the load generator shares the CPU with the server and the database, and
it should take as little of it as it can. Its own CPU per report is reported beside the
servers', and so is the CPU that other processes on the machine took during the window.

A/B mode (--fast-path-ab ROUNDS) measures one change instead: the same build served with the
report route's fast path (api/fast_path.py) on and off (`collector serve --no-report-fast-path`),
interleaved on, off, on, off ... ROUNDS times each, on one database (PostgreSQL unless
--databases says otherwise) with --workers 2 (what the shipped systemd unit runs) unless
--workers says otherwise. Both servers run at once on the same database and take the load in
turn (the idle one costs nothing), so a pair of measurements lies seconds apart and a drift of
the machine (other engineers' work, the tables growing) falls on both sides alike. The summary
gives each side's mean and run-to-run spread and the mean of the paired differences (on minus
off, round by round) with their spread; each run also shows the CPU other processes took.

--baseline-ab ROUNDS --baseline DIR does the same for this checkout against another build: a
source tree with agent/ and server_stub/ (e.g. `git archive COMMIT agent server_stub | tar -x -C
DIR`), served by the same virtualenv with DIR first on PYTHONPATH.

Usage: .venv/bin/python bench/ingest.py [--seconds S] [--rounds N] [--concurrency C] [--warmup S]
           [--devices N] [--databases sqlite,postgresql] [--workers 1,2]
           [--targets collector,floor,floor-batching] [--fast-path-ab ROUNDS]
           [--baseline-ab ROUNDS --baseline DIR]
Prints a Markdown table on stdout (progress on stderr). Cleans up every process, temporary
directory and temporary database it made, also on failure or Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import copy
import hashlib
import itertools
import json
import os
import random
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

import psutil
import psycopg
import requests

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
FLIP_PROBABILITY = 0.1
REQUEST_TIMEOUT_S = 10.0
MARKERS = {
    "report_id": "@@REPORT_ID@@",
    "device_id": "@@DEVICE_ID@@",
    "collected_at": "@@COLLECTED_AT@@",
    "hostname": "@@HOSTNAME@@",
    "hardware_id_hash": "@@HARDWARE_ID_HASH@@",
}


def progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- load generator


@dataclass
class LoadSpec:
    port: int
    devices: list[tuple[str, str, str]]  # (device id, device secret, hostname)
    templates: list[str]  # report JSON with MARKERS; [as collected, patched]
    warmup: float
    seconds: float
    concurrency: int
    server_pid: int
    database_name: str | None  # PostgreSQL: count the connections opened to it


@dataclass
class LoadResult:
    completed: int
    rate: float
    p50_ms: float
    p99_ms: float
    errors: int
    error_samples: list[str]
    server_cpu_s: float
    database_cpu_s: float
    database_connections: int  # PostgreSQL connections opened during the window
    client_cpu_s: float
    machine_busy: float  # share of all cores busy during the window, 0..1


class HttpConnection:
    """One keep-alive HTTP/1.1 connection; just enough protocol for uvicorn's answers."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        await self.close()
        self.reader, self.writer = await asyncio.open_connection(HOST, self.port)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None

    async def request(self, data: bytes) -> tuple[int, bytes]:
        if self.reader is None or self.writer is None:
            await self.open()
        assert self.reader is not None and self.writer is not None
        self.writer.write(data)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if "content-length" not in headers:
            raise ValueError(f"answer without Content-Length: {lines[0]}")
        body = await self.reader.readexactly(int(headers["content-length"]))
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return status, body


def _request_bytes(port: int, secret: str, body: bytes) -> bytes:
    head = (
        f"POST /api/v1/reports HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
        f"Content-Type: application/json\r\nAuthorization: Bearer {secret}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def _tree_cpu(pid: int) -> float:
    """CPU seconds of a server: uvicorn and its worker processes."""
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    return sum(_cpu_of(p) for p in processes)


def _postgres_cpu() -> float:
    """CPU seconds of the whole PostgreSQL server: live processes plus the backends that have
    exited (the postmaster's reaped children), so short-lived connections are counted too.
    Other clients of the same server would be counted as well."""
    total = 0.0
    for process in psutil.process_iter(["name", "ppid"]):
        if process.info["name"] != "postgres":
            continue
        total += _cpu_of(process)
        with contextlib.suppress(psutil.Error):
            if psutil.Process(process.info["ppid"]).name() != "postgres":  # the postmaster
                times = process.cpu_times()
                total += times.children_user + times.children_system
    return total


def _cpu_of(process: psutil.Process) -> float:
    with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
        times = process.cpu_times()
        return float(times.user + times.system)
    return 0.0


def _sessions(database: str | None) -> int:
    """Connections ever opened to the bench's database (pg_stat_database.sessions)."""
    if database is None:
        return 0
    url = f"{PG_SERVER.replace('postgresql+psycopg://', 'postgresql://')}/{database}"
    with psycopg.connect(url, autocommit=True) as connection:
        row = connection.execute(
            "SELECT sessions FROM pg_stat_database WHERE datname = %s", (database,)
        ).fetchone()
    return int(row[0]) if row else 0


def _busy(before: Any, after: Any) -> float:
    idle = (after.idle + after.iowait) - (before.idle + before.iowait)
    total = sum(after) - sum(before)
    return 1.0 - idle / total if total > 0 else 0.0


async def generate_load(spec: LoadSpec) -> LoadResult:
    """CONCURRENCY closed-loop senders; requests that finish inside the window are counted."""
    loop_start = time.perf_counter()
    window_start = loop_start + spec.warmup
    window_end = window_start + spec.seconds
    templates = [t.encode() for t in spec.templates]
    rng = random.Random(3)
    patched = [False] * len(spec.devices)
    sequence = itertools.count()
    latencies: list[float] = []
    errors: list[str] = []

    busy: set[int] = set()  # devices with a report in flight: an agent sends one at a time

    def next_request() -> tuple[int, bytes]:
        index = next(sequence) % len(spec.devices)
        while index in busy:
            index = next(sequence) % len(spec.devices)
        busy.add(index)
        device_id, secret, hostname = spec.devices[index]
        if len(templates) > 1 and rng.random() < FLIP_PROBABILITY:
            patched[index] = not patched[index]
        body = (
            templates[int(patched[index])]
            .replace(MARKERS["report_id"].encode(), str(uuid.uuid4()).encode())
            .replace(MARKERS["device_id"].encode(), device_id.encode())
            .replace(MARKERS["hostname"].encode(), hostname.encode())
            .replace(MARKERS["hardware_id_hash"].encode(), hardware_id_hash(hostname).encode())
            .replace(
                MARKERS["collected_at"].encode(),
                datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ").encode(),
            )
        )
        return index, _request_bytes(spec.port, secret, body)

    async def sender(number: int) -> None:
        # Connections open one by one over the first half of the warm-up, as agents arrive
        # over time. Opened all at once, one uvicorn worker accepts nearly all of them (it
        # accepts in a loop once woken) and the other worker idles through the run.
        await asyncio.sleep(number * spec.warmup / (2 * spec.concurrency))
        connection = HttpConnection(spec.port)
        try:
            while True:
                device, data = next_request()
                started = time.perf_counter()
                if started >= window_end:
                    busy.discard(device)
                    return
                try:
                    status, answer = await asyncio.wait_for(
                        connection.request(data), REQUEST_TIMEOUT_S
                    )
                    problem = None if status == 200 else f"{status} {answer[:200]!r}"
                except TimeoutError:  # like an agent: give up, and retry later
                    problem = f"no answer within {REQUEST_TIMEOUT_S:.0f} s"
                    await connection.close()
                except (OSError, ValueError, asyncio.IncompleteReadError) as exc:
                    problem = f"{type(exc).__name__}: {exc}"
                    await connection.close()
                finally:
                    busy.discard(device)
                finished = time.perf_counter()
                if problem is None and window_start <= finished < window_end:
                    latencies.append(finished - started)
                elif problem is not None and finished >= window_start:
                    # a failure counts even when it surfaces after the window (a timeout)
                    errors.append(problem)
        finally:
            await connection.close()

    cpu: dict[str, Any] = {}

    async def monitor() -> None:
        await asyncio.sleep(max(0.0, window_start - time.perf_counter()))
        postgres = spec.database_name is not None
        cpu["server"] = _tree_cpu(spec.server_pid)
        cpu["database"] = _postgres_cpu() if postgres else 0.0
        cpu["sessions"] = await asyncio.to_thread(_sessions, spec.database_name)
        cpu["client"] = time.process_time()
        cpu["machine"] = psutil.cpu_times()
        await asyncio.sleep(max(0.0, window_end - time.perf_counter()))
        cpu["machine"] = _busy(cpu["machine"], psutil.cpu_times())
        cpu["client"] = time.process_time() - cpu["client"]
        cpu["server"] = _tree_cpu(spec.server_pid) - cpu["server"]
        cpu["database"] = (_postgres_cpu() if postgres else 0.0) - cpu["database"]
        # -1: the connection that asks; stats of live backends may lag by up to a second
        opened = await asyncio.to_thread(_sessions, spec.database_name)
        cpu["sessions"] = max(0, opened - cpu["sessions"] - 1) if postgres else 0

    await asyncio.gather(monitor(), *(sender(n) for n in range(spec.concurrency)))
    ordered = sorted(latencies)
    p99 = statistics.quantiles(ordered, n=100)[98] if len(ordered) >= 100 else float("nan")
    return LoadResult(
        completed=len(ordered),
        rate=len(ordered) / spec.seconds,
        p50_ms=1000 * statistics.median(ordered) if ordered else float("nan"),
        p99_ms=1000 * p99,
        errors=len(errors),
        error_samples=sorted(set(errors))[:5],
        server_cpu_s=cpu["server"],
        database_cpu_s=cpu["database"],
        database_connections=cpu["sessions"],
        client_cpu_s=cpu["client"],
        machine_busy=cpu["machine"],
    )


def load_main(spec_path: str) -> int:
    spec = LoadSpec(**json.loads(Path(spec_path).read_text()))
    result = asyncio.run(generate_load(spec))
    print(json.dumps(asdict(result)))
    return 0


# --------------------------------------------------------------------------- orchestration


def report_templates() -> list[str]:
    """`agent facts --json` once, with markers where each request puts its own values."""
    done = subprocess.run(
        [str(BIN / "agent"), "facts", "--json"], capture_output=True, text=True, check=True
    )
    report = json.loads(done.stdout)
    for key in ("report_id", "device_id", "collected_at"):
        report[key] = MARKERS[key]
    report["host"]["hostname"] = MARKERS["hostname"]
    report["host"]["hardware_id_hash"] = MARKERS["hardware_id_hash"]
    variants = [report]
    patch = report.get("probes", {}).get("patch_level", {}).get("data")
    if isinstance(patch, dict) and patch.get("pending_security_updates"):
        patched = copy.deepcopy(report)
        patched["probes"]["patch_level"]["data"]["pending_security_updates"] = 0
        patched["probes"]["patch_level"]["data"]["security_updates"] = []
        variants.append(patched)
    from server_stub.ingest.schema import report_validator

    validator = report_validator()
    for variant in variants:
        sample = json.loads(
            json.dumps(variant)
            .replace(MARKERS["report_id"], str(uuid.uuid4()))
            .replace(MARKERS["device_id"], str(uuid.uuid4()))
            .replace(MARKERS["hostname"], hostname(0))
            .replace(MARKERS["hardware_id_hash"], hardware_id_hash(hostname(0)))
            .replace(MARKERS["collected_at"], "2026-01-01T00:00:00Z")
        )
        problems = [e.message for e in validator.iter_errors(sample)]
        if problems:
            raise SystemExit(f"agent facts do not match the report schema: {problems[:3]}")
    return [json.dumps(v) for v in variants]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Database:
    kind: str  # "sqlite" or "postgresql"
    url: str
    data_dir: Path
    pg_name: str | None


@contextlib.contextmanager
def temporary_database(kind: str, scratch: Path) -> Iterator[Database]:
    data_dir = scratch / f"data-{kind}"
    data_dir.mkdir()
    if kind == "sqlite":
        yield Database(kind, f"sqlite:///{data_dir / 'collector.db'}", data_dir, None)
        return
    name = f"outpost_bench_{os.getpid()}_{secrets.token_hex(3)}"
    admin = PG_SERVER.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield Database(kind, f"{PG_SERVER}/{name}", data_dir, name)
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        progress(f"dropped database {name}")


def prepare(database: Database, count: int) -> list[tuple[str, str]]:
    """Migrate, register COUNT devices (what `collector device register` does, in-process:
    200 CLI start-ups would take minutes) and create the floor's table. -> [(id, token)]."""
    from ingest_floor import create_table_sql

    from server_stub.storage.db import make_engine, session_factory, upgrade
    from server_stub.storage.devices import register_device

    engine = make_engine(database.url)
    try:
        upgrade(engine)
        registered = []
        with session_factory(engine).begin() as session:
            for index in range(count):
                registration = register_device(
                    session,
                    name=f"bench-{index:04d}",
                    owner="bench",
                    department="Benchmarks",
                    approved_by="Head of Benchmarks",
                    justification="load test of the collector's ingest path",
                    expires=date(2027, 12, 31),
                    token_ttl_days=1,
                    actor="bench",
                )
                registered.append((registration.device_id, registration.enrolment_token))
        with engine.begin() as connection:
            for statement in create_table_sql(engine.dialect.name):
                connection.exec_driver_sql(statement)
        return registered
    finally:
        engine.dispose()


def hostname(index: int) -> str:
    return f"bench-{index:04d}.example.test"


def hardware_id_hash(name: str) -> str:
    """Each bench device's own hardware id hash (enrolment binds the secret to it)."""
    return hashlib.sha256(name.encode()).hexdigest()


def enrol_all(port: int, registered: list[tuple[str, str]]) -> list[tuple[str, str, str]]:
    devices = []
    with requests.Session() as client:
        for index, (device_id, token) in enumerate(registered):
            answer = client.post(
                f"http://{HOST}:{port}/api/v1/enroll",
                json={
                    "token": token,
                    "hostname": hostname(index),
                    "hardware_id_hash": hardware_id_hash(hostname(index)),
                },
                timeout=30,
            )
            answer.raise_for_status()
            enrolled = answer.json()
            if enrolled["device_id"] != device_id:
                raise RuntimeError(f"enrolled as {enrolled['device_id']}, expected {device_id}")
            devices.append((device_id, enrolled["device_secret"], hostname(index)))
    return devices


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log: Path


# The collector served three ways: as shipped, without the report route's fast path, and from
# another source tree (--baseline-ab: PYTHONPATH puts that tree ahead of this checkout).
COLLECTORS = {
    "collector": [],
    "collector-no-fast-path": ["--no-report-fast-path"],
    "collector-baseline": [],
}
# A/B pairs: (A, B, the column heading, A's label, B's label).
FAST_PATH_PAIR = ("collector", "collector-no-fast-path", "fast path", "on", "off")
BASELINE_PAIR = ("collector", "collector-baseline", "build", "this checkout", "baseline")
# The floors (bench/ingest_floor.py): one INSERT per request, and group commit.
FLOORS = {"floor": "app", "floor-batching": "batched_app"}


def _server_command(target: str, database: Database, port: int, workers: int) -> list[str]:
    if target in COLLECTORS:
        command = [str(BIN / "collector"), "serve", "--data-dir", str(database.data_dir)]
        if database.kind == "postgresql":
            command += ["--database-url", database.url]
        return [*command, "--port", str(port), "--workers", str(workers), *COLLECTORS[target]]
    # The floors ask `collector serve` for its uvicorn options (bench/ingest_floor.py).
    return [
        sys.executable,
        str(BENCH_DIR / "ingest_floor.py"),
        "--app",
        FLOORS[target],
        "--database-url",
        database.url,
        "--data-dir",
        str(database.data_dir),
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the server's process group (uvicorn and its workers), SIGKILL if it lingers."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            progress(f"server {process.pid} ignored SIGTERM; killing it")
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # workers left behind, if any
    process.wait()


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


@contextlib.contextmanager
def running(
    target: str, database: Database, workers: int, scratch: Path, baseline: str | None = None
) -> Iterator[Server]:
    port = free_port()
    log = scratch / f"{target}-{database.kind}-w{workers}.log"
    env = {**os.environ, "BENCH_FLOOR_DATABASE_URL": database.url}
    for variable in ("OUTPOST_DATA_DIR", "OUTPOST_DATABASE_URL", "OUTPOST_REPORT_FAST_PATH"):
        env.pop(variable, None)
    # The load sends each device's reports back to back (hundreds a minute per device), which
    # the default per-device limit (60/minute) would answer 429: raised out of the way, the
    # limiter still counts every report, so its cost stays in the collector's figures.
    env["OUTPOST_REPORT_RATE_LIMIT"] = "1000000/minute"
    if target == "collector-baseline":
        if baseline is None:
            raise ValueError("collector-baseline needs --baseline DIR")
        env["PYTHONPATH"] = baseline
    with log.open("wb") as sink:
        process = subprocess.Popen(
            _server_command(target, database, port, workers),
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            cwd=REPO,
            env=env,
            start_new_session=True,  # its own process group, so stop() reaches every worker
        )
    try:
        _wait_until_up(process, port, workers, log)
        yield Server(process, port, log)
    finally:
        stop(process)


def _wait_until_up(process: subprocess.Popen[bytes], port: int, workers: int, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{_tail(log)}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(f"http://{HOST}:{port}/healthz", timeout=2).status_code == 200:
                # with --workers N, wait until every worker has started its application
                text = log.read_text(errors="replace")
                if text.count("Application startup complete") >= workers:
                    return
        time.sleep(0.2)
    raise RuntimeError(f"server did not come up on port {port}:\n{_tail(log)}")


def run_load(spec: LoadSpec, scratch: Path) -> LoadResult:
    spec_path = scratch / "load-spec.json"
    spec_path.write_text(json.dumps(asdict(spec)))
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--load-spec", str(spec_path)],
        capture_output=True,
        text=True,
        timeout=spec.warmup + spec.seconds + 120,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"load generator failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return LoadResult(**json.loads(done.stdout.strip().splitlines()[-1]))


@dataclass
class Row:
    database: str
    target: str
    workers: int
    result: LoadResult
    round: int = 1


def _ms(seconds: float, reports: int) -> str:
    return f"{1000 * seconds / reports:.2f}" if reports else "-"


def _num(value: float) -> str:
    return "-" if value != value else f"{value:.1f}"  # NaN: too few answers for a percentile


def markdown(rows: list[Row], seconds: float) -> str:
    """One line per database, worker count and target: medians over the rounds; the shares of
    the floors are the medians of each round's own ratio (both sides of a ratio from one round)."""
    out = [
        "| database | workers | target | rounds | reports/s median (min-max) | vs floor "
        "| vs batching floor | p50 ms | p99 ms | errors | server CPU ms/report "
        "| PostgreSQL CPU ms/report | load gen CPU ms/report | other processes (cores) |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
        "| ---: | ---: |",
    ]
    groups: dict[tuple[str, int, str], list[Row]] = {}
    for row in rows:
        groups.setdefault((row.database, row.workers, row.target), []).append(row)
    for (database, workers, target), group in groups.items():
        rates = [r.result.rate for r in group]

        def cpu(field: str, group: list[Row] = group) -> str:
            return _ms_value(_median([_per_report(r.result, field) for r in group]))

        out.append(
            f"| {database} | {workers} | {target} | {len(group)} "
            f"| {statistics.median(rates):.0f} ({min(rates):.0f}-{max(rates):.0f}) "
            f"| {_share(rows, group, 'floor')} | {_share(rows, group, 'floor-batching')} "
            f"| {_num(_median([r.result.p50_ms for r in group]))} "
            f"| {_num(_median([r.result.p99_ms for r in group]))} "
            f"| {sum(r.result.errors for r in group)} | {cpu('server_cpu_s')} "
            f"| {cpu('database_cpu_s') if database == 'postgresql' else '-'} "
            f"| {cpu('client_cpu_s')} "
            f"| {_median([_others(r.result, seconds) for r in group]):.2f} |"
        )
    return "\n".join(out)


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _per_report(result: LoadResult, field: str) -> float:
    seconds: float = getattr(result, field)
    return seconds / result.completed if result.completed else float("nan")


def _ms_value(seconds: float) -> str:
    return "-" if seconds != seconds else f"{1000 * seconds:.2f}"


def _share(rows: list[Row], group: list[Row], floor: str) -> str:
    """The median over rounds of GROUP's rate over FLOOR's in the same round (same database
    and worker count)."""
    floors = {(r.database, r.workers, r.round): r.result.rate for r in rows if r.target == floor}
    shares = [
        r.result.rate / floors[(r.database, r.workers, r.round)]
        for r in group
        if floors.get((r.database, r.workers, r.round))
    ]
    return f"{100 * statistics.median(shares):.0f}%" if shares else "-"


def _spread(values: list[float]) -> float:
    return statistics.stdev(values) if len(values) > 1 else float("nan")


def _others(result: LoadResult, seconds: float) -> float:
    """Cores the rest of the machine kept busy during the window (other engineers' work)."""
    ours = result.server_cpu_s + result.database_cpu_s + result.client_cpu_s
    return max(0.0, result.machine_busy * (psutil.cpu_count() or 1) - ours / seconds)


def ab_markdown(rows: list[Row], seconds: float, pair: tuple[str, ...]) -> str:
    """Every run in order, then each side's mean and spread and the paired difference."""
    a, b, heading, a_label, b_label = pair
    labels = {a: a_label, b: b_label}
    out = [
        f"| round | {heading} | reports/s | p50 ms | p99 ms | errors | server CPU ms/report "
        "| other processes (cores) |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    rates: dict[str, list[float]] = {a: [], b: []}
    cpu: dict[str, list[float]] = {a: [], b: []}
    for row in rows:
        r = row.result
        rates[row.target].append(r.rate)
        cpu[row.target].append(1000 * r.server_cpu_s / max(1, r.completed))
        out.append(
            f"| {len(rates[row.target])} | {labels[row.target]} | {r.rate:.0f} "
            f"| {_num(r.p50_ms)} | {_num(r.p99_ms)} | {r.errors} "
            f"| {_ms(r.server_cpu_s, r.completed)} | {_others(r, seconds):.2f} |"
        )
    differences = [x - y for x, y in zip(rates[a], rates[b], strict=False)]
    gain = statistics.fmean(differences)
    out += [
        "",
        f"| {heading} | runs | mean reports/s | spread (stdev) | min | max "
        "| mean server CPU ms/report |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for target in (a, b):
        values = rates[target]
        out.append(
            f"| {labels[target]} | {len(values)} | {statistics.fmean(values):.0f} "
            f"| {_spread(values):.0f} | {min(values):.0f} | {max(values):.0f} "
            f"| {statistics.fmean(cpu[target]):.2f} |"
        )
    relative = 100 * gain / statistics.fmean(rates[b])
    out += [
        "",
        f"Paired difference, {a_label} minus {b_label}: {gain:+.0f} reports/s ({relative:+.1f}%), "
        f"spread (stdev) of the {len(differences)} differences {_spread(differences):.0f}; "
        f"per-round differences: {', '.join(f'{d:+.0f}' for d in differences)}.",
    ]
    return "\n".join(out)


def _terminate(signum: int, _: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwinds through every cleanup below


def measure(
    args: argparse.Namespace,
    server: Server,
    devices: list[tuple[str, str, str]],
    templates: list[str],
    database: Database,
    scratch: Path,
    label: str,
) -> LoadResult:
    progress(f"{label}: measuring")
    result = run_load(
        LoadSpec(
            port=server.port,
            devices=devices,
            templates=templates,
            warmup=args.warmup,
            seconds=args.seconds,
            concurrency=args.concurrency,
            server_pid=server.process.pid,
            database_name=database.pg_name,
        ),
        scratch,
    )
    if result.errors:
        progress(f"end of the server's log:\n{_tail(server.log, 12)}")
    progress(
        f"{label}: {result.rate:.0f} reports/s, p50 {result.p50_ms:.1f} ms, "
        f"p99 {result.p99_ms:.1f} ms, {result.errors} errors {result.error_samples[:2]}"
    )
    return result


def compare(
    args: argparse.Namespace, database: Database, templates: list[str], scratch: Path
) -> list[Row]:
    """The floor comparison, for each worker count: every target up at once on the same
    database, loaded in turn (collector, floor, batching floor, collector, ...) for --rounds
    rounds. Only the one under load works, and the targets of a round lie seconds apart, so
    what the rest of the machine does weighs on all of them alike."""
    progress(f"{database.kind}: registering {args.devices} devices")
    registered = prepare(database, args.devices)
    # Placeholder secrets let a floor-only run go without enrolling anyone.
    devices = [(i, "-", hostname(n)) for n, (i, _) in enumerate(registered)]
    enrolled = False
    rows = []
    for workers in args.workers:
        with contextlib.ExitStack() as stack:
            servers = {
                target: stack.enter_context(running(target, database, workers, scratch))
                for target in args.targets
            }
            collector = next((t for t in args.targets if t in COLLECTORS), None)
            if collector is not None and not enrolled:
                devices = enrol_all(servers[collector].port, registered)
                enrolled = True
            for round_number in range(1, args.rounds + 1):
                for target, server in servers.items():
                    label = f"{database.kind} {target} --workers {workers} round {round_number}"
                    result = measure(args, server, devices, templates, database, scratch, label)
                    rows.append(Row(database.kind, target, workers, result, round_number))
    return rows


def _pair(args: argparse.Namespace) -> tuple[str, ...] | None:
    """The A/B pair this run compares, or None for the floor comparison."""
    if args.fast_path_ab:
        return FAST_PATH_PAIR
    if args.baseline_ab:
        return BASELINE_PAIR
    return None


def ab(
    args: argparse.Namespace, database: Database, templates: list[str], scratch: Path
) -> list[Row]:
    """Both collectors of the pair up at once on the same database, loaded in turn: A, B, A,
    B... Only the one under load works (the other idles), and a pair of measurements lies
    seconds apart, so what the rest of the machine does weighs on both alike."""
    pair = _pair(args)
    assert pair is not None
    rounds = args.fast_path_ab or args.baseline_ab
    progress(f"{database.kind}: registering {args.devices} devices")
    registered = prepare(database, args.devices)
    rows: list[Row] = []
    for workers in args.workers:
        with contextlib.ExitStack() as stack:
            servers = {
                target: stack.enter_context(
                    running(target, database, workers, scratch, args.baseline)
                )
                for target in pair[:2]
            }
            if not rows:
                devices = enrol_all(servers[pair[0]].port, registered)
            for round_number in range(1, rounds + 1):
                for target, server in servers.items():
                    label = f"{database.kind} {target} --workers {workers} round {round_number}"
                    result = measure(args, server, devices, templates, database, scratch, label)
                    rows.append(Row(database.kind, target, workers, result))
    return rows


def bench(args: argparse.Namespace, out: TextIO) -> int:
    templates = report_templates()
    rows: list[Row] = []
    scratch = Path(tempfile.mkdtemp(prefix="outpost-bench-"))
    failed = True
    try:
        for kind in args.databases:
            with temporary_database(kind, scratch) as database:
                run = ab if _pair(args) else compare
                rows += run(args, database, templates, scratch)
        failed = False
    finally:
        if failed:
            for log in sorted(scratch.glob("*.log")):
                progress(f"last lines of {log.name}:\n{_tail(log, 15)}")
        shutil.rmtree(scratch, ignore_errors=True)
        progress(f"removed {scratch}")
    pair = _pair(args)
    tables = ab_markdown(rows, args.seconds, pair) if pair else markdown(rows, args.seconds)
    print(f"{describe(args)}\n\n{tables}", file=out)
    if any(row.result.errors for row in rows):
        progress("some requests failed or timed out: see the errors column")
    return 0  # a benchmark reports; it does not pass or fail


def describe(args: argparse.Namespace) -> str:
    """The command, the date and the machine, for the heading of the recorded table."""
    command = " ".join([".venv/bin/python bench/ingest.py", *sys.argv[1:]])
    memory = psutil.virtual_memory().total / 2**30
    postgres = "-"
    with contextlib.suppress(psycopg.Error):
        admin = PG_SERVER.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
        with psycopg.connect(admin) as connection:
            row = connection.execute("SHOW server_version").fetchone()
            postgres = str(row[0]) if row else "-"
    pair = _pair(args)
    measured = (
        f"{', '.join(args.databases)}, --workers {','.join(str(w) for w in args.workers)}, "
        f"{pair[0]} and {pair[1]} interleaved, {args.fast_path_ab or args.baseline_ab} rounds "
        "each; "
        if pair
        else f"the three targets interleaved, {args.rounds} rounds; "
    )
    return (
        f"`{command}` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC: {psutil.cpu_count()} cores, "
        f"{memory:.0f} GiB, Python {sys.version.split()[0]}, PostgreSQL {postgres}; {measured}"
        f"{args.devices} devices, {args.concurrency} requests in flight, "
        f"{args.warmup:g} s warm-up, {args.seconds:g} s measured"
    )


def _csv(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=15.0, help="measured window (15)")
    parser.add_argument("--warmup", type=float, default=3.0, help="unmeasured warm-up (3)")
    parser.add_argument(
        "--rounds", type=int, default=3, help="floor comparison: rounds of every target (3)"
    )
    parser.add_argument("--concurrency", type=int, default=32, help="requests in flight (32)")
    parser.add_argument("--devices", type=int, default=200, help="enrolled devices (200)")
    parser.add_argument("--databases", type=_csv)
    parser.add_argument("--workers", type=lambda t: [int(w) for w in _csv(t)])
    parser.add_argument("--targets", type=_csv, default=["collector", "floor", "floor-batching"])
    parser.add_argument(
        "--fast-path-ab",
        type=int,
        default=0,
        metavar="ROUNDS",
        help="A/B: the collector with the fast path on and off, interleaved ROUNDS times each",
    )
    parser.add_argument(
        "--baseline-ab",
        type=int,
        default=0,
        metavar="ROUNDS",
        help="A/B: this checkout against --baseline, interleaved ROUNDS times each",
    )
    parser.add_argument(
        "--baseline",
        metavar="DIR",
        help="a source tree with agent/ and server_stub/ (git archive COMMIT agent server_stub)",
    )
    parser.add_argument("--load-spec", help=argparse.SUPPRESS)  # internal: be the load process
    args = parser.parse_args()
    if args.load_spec:
        return load_main(args.load_spec)
    if args.baseline_ab and not args.baseline:
        parser.error("--baseline-ab needs --baseline DIR")
    if args.baseline:
        args.baseline = str(Path(args.baseline).resolve())
    ab = _pair(args) is not None
    args.databases = args.databases or (["postgresql"] if ab else ["sqlite", "postgresql"])
    args.workers = args.workers or ([2] if ab else [1, 2])
    signal.signal(signal.SIGTERM, _terminate)
    sys.path.insert(0, str(BENCH_DIR))  # for `from ingest_floor import ...`
    return bench(args, sys.stdout)


if __name__ == "__main__":
    sys.exit(main())
