"""The servers of bench/ingest.py: temporary databases, devices, and the collector and floors
served as processes of their own (each in its own process group, stopped whole)."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import psycopg
import requests
from ingest_load import HOST, PG_SERVER, hardware_id_hash, hostname, progress

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
BIN = Path(sys.executable).parent


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


def tail(path: Path, lines: int = 30) -> str:
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
    process = start_server(
        _server_command(target, database, port, workers), env, log, port, workers
    )
    try:
        yield Server(process, port, log)
    finally:
        stop(process)


def start_server(
    command: list[str], env: dict[str, str] | None, log: Path, port: int, workers: int = 1
) -> subprocess.Popen[bytes]:
    """A server started in the checkout, its output in `log`, once it answers /healthz with
    every worker up; stopped again if it never does. env None: this process's environment."""
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            cwd=REPO,
            env=env,
            start_new_session=True,  # its own process group, so stop() reaches every worker
        )
    try:
        wait_until_up(process, port, workers, log)
    except BaseException:
        stop(process)
        raise
    return process


def wait_until_up(process: subprocess.Popen[bytes], port: int, workers: int, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{tail(log)}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(f"http://{HOST}:{port}/healthz", timeout=2).status_code == 200:
                # with --workers N, wait until every worker has started its application
                text = log.read_text(errors="replace")
                if text.count("Application startup complete") >= workers:
                    return
        time.sleep(0.2)
    raise RuntimeError(f"server did not come up on port {port}:\n{tail(log)}")
