"""Fixtures for system tests of the collector: real `collector` and `agent` processes on loopback.

`collector` is one running `collector serve` per database backend ("sqlite", "postgresql") for
the whole session; every test registers its own devices, so tests never see each other's data.
`start_collector` / `start_module_collector` start extra collectors (another policy, a trusted
proxy) for one test or one module. Each collector has its own data directory and, on
PostgreSQL, its own throwaway database (pg.py); processes are stopped (SIGTERM, then SIGKILL)
and data directories and databases removed at teardown.
"""

from __future__ import annotations

import copy
import gzip
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from server_stub.storage.devices import register_device
from server_stub.storage.tables import Base
from tests.system.pg import PgServer, database_name

BIN = Path(sys.executable).parent
COLLECTOR = str(BIN / "collector")
AGENT = str(BIN / "agent")
BACKENDS = ("sqlite", "postgresql")
# The agent keeps its secret in <state>/device_secret (0600) when no keyring backend works.
AGENT_ENV = {"PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring", "NO_COLOR": "1"}
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
CLI_TIMEOUT_S = 60.0
COMMIT_WAIT_S = 10.0
FAR_FUTURE = "2099-12-31"


def unique_name() -> str:
    return f"laptop-{uuid.uuid4().hex[:10]}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def clean_env() -> dict[str, str]:
    """This environment without OUTPOST_* settings (a developer's shell may set some)."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith("OUTPOST_")}
    return {**kept, **AGENT_ENV}


def run(argv: list[str], *, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_S,
        env=clean_env(),
        check=False,
    )


def run_agent(state_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The real agent; --state-dir is a global option and goes before the command."""
    return run([AGENT, "--state-dir", str(state_dir), *args])


@dataclass(frozen=True)
class Registration:
    name: str
    device_id: str
    token: str


@dataclass(frozen=True)
class EnrolledDevice:
    name: str
    device_id: str
    state_dir: Path
    secret: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret}"}


@dataclass
class Collector:
    """One running `collector serve` process and the ways a test talks to it."""

    backend: str
    data_dir: Path
    database_url: str | None  # None: SQLite in data_dir
    port: int
    extra_args: tuple[str, ...] = ()
    process: subprocess.Popen[bytes] | None = None
    admin_token: str = ""
    _engine: Engine | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.data_dir.parent / f"collector-{self.port}.log"

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def db_args(self) -> list[str]:
        # --data-dir always: without it the CLI makes ./outpost-data in the current directory.
        args = ["--data-dir", str(self.data_dir)]
        return [*args, "--database-url", self.database_url] if self.database_url else args

    # processes -------------------------------------------------------------------------

    def start(self) -> None:
        argv = [COLLECTOR, "serve", *self.db_args(), "--host", "127.0.0.1"]
        argv += ["--port", str(self.port), *self.extra_args]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=clean_env(),
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(
                    f"collector serve exited with {self.process.returncode}:\n{self.log_text()}",
                    pytrace=False,
                )
            try:
                if requests.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.1)
        self.stop()
        pytest.fail(f"collector did not answer /healthz in {START_TIMEOUT_S}s:\n{self.log_text()}")

    def stop(self, grace_s: float = STOP_TIMEOUT_S) -> None:
        """SIGTERM, then SIGKILL after grace_s (0: at once)."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM if grace_s > 0 else signal.SIGKILL)
        try:
            process.wait(grace_s or STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_TIMEOUT_S)

    def cli(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        """`collector ARGS... --data-dir/--database-url` against this collector's database."""
        return run([COLLECTOR, *args, *self.db_args()], stdin=stdin)

    def register_cli(
        self,
        name: str | None = None,
        *,
        owner: str = "Ada Lovelace",
        department: str = "Computer Science",
        expires: str = FAR_FUTURE,
        token_ttl: int | None = None,
    ) -> Registration:
        """`collector device register` (the real command): the token is its last line."""
        name = name or unique_name()
        args = ["device", "register", name, "--owner", owner, "--department", department]
        args += ["--approved-by", "Head of CS", "--justification", "social media outreach"]
        args += ["--expires", expires]
        if token_ttl is not None:
            args += ["--token-ttl", str(token_ttl)]
        done = self.cli(*args)
        assert done.returncode == 0, done.stderr
        lines = done.stdout.strip().splitlines()
        device_id = lines[0].rsplit(" ", 1)[-1]
        uuid.UUID(device_id)  # "registered NAME as device <uuid>"
        return Registration(name=name, device_id=device_id, token=lines[-1].strip())

    def register(
        self,
        name: str | None = None,
        *,
        owner: str = "Ada Lovelace",
        department: str = "Computer Science",
        expires: str = FAR_FUTURE,
        token_ttl: int = 7,
    ) -> Registration:
        """Register through the storage code the CLI uses, from this process: a CLI process
        costs about a second, and tests that are not about the CLI register many devices."""
        name = name or unique_name()
        with Session(self.engine) as session, session.begin():
            registration = register_device(
                session,
                name=name,
                owner=owner,
                department=department,
                approved_by="Head of CS",
                justification="social media outreach",
                expires=date.fromisoformat(expires),
                token_ttl_days=token_ttl,
                actor="system-tests",
            )
        return Registration(name, registration.device_id, registration.enrolment_token)

    def enrol(self, state_dir: Path, registration: Registration | None = None) -> EnrolledDevice:
        """Register (unless given) and enrol the real agent in state_dir."""
        registration = registration or self.register()
        done = run_agent(state_dir, "enroll", "--server", self.url, "--token", registration.token)
        assert done.returncode == 0, done.stderr
        assert registration.device_id in done.stdout
        secret = (state_dir / "device_secret").read_text().strip()
        return EnrolledDevice(registration.name, registration.device_id, state_dir, secret)

    # HTTP ------------------------------------------------------------------------------

    def admin_get(self, path: str, **params: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.admin_token}"}
        return requests.get(self.url + path, headers=headers, params=params, timeout=10)

    def admin_json(self, path: str, **params: Any) -> Any:
        response = self.admin_get(path, **params)
        assert response.status_code == 200, response.text
        return response.json()

    def device(self, device_id: str) -> dict[str, Any]:
        detail: dict[str, Any] = self.admin_json(f"/api/v1/devices/{device_id}")
        return detail

    def history(self, device_id: str) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = self.admin_json(f"/api/v1/devices/{device_id}/history")
        return events

    def post_report(
        self,
        auth: dict[str, str],
        report: dict[str, Any] | bytes,
        *,
        compress: bool = False,
        headers: dict[str, str] | None = None,
        timeout: float = 30.0,
    ) -> requests.Response:
        body = report if isinstance(report, bytes) else json.dumps(report).encode()
        sent = {"Content-Type": "application/json", **auth, **(headers or {})}
        if compress:
            body = gzip.compress(body)
            sent["Content-Encoding"] = "gzip"
        return requests.post(self.url + "/api/v1/reports", data=body, headers=sent, timeout=timeout)

    def send(self, auth: dict[str, str], report: dict[str, Any], **options: Any) -> dict[str, Any]:
        """Post a report that must be accepted, and wait until it is in the database."""
        response = self.post_report(auth, report, **options)
        assert response.status_code == 200, response.text
        self.wait_for_report(str(report["report_id"]))
        answer: dict[str, Any] = response.json()
        return answer

    def wait_for_report(self, report_id: str) -> None:
        """The collector answers before its transaction commits (see test_collector_commit.py),
        so a read straight after a 200 can miss the write: wait until the report is stored."""
        deadline = time.monotonic() + COMMIT_WAIT_S
        while not self.scalar("SELECT count(*) FROM reports WHERE id = :r", r=report_id):
            assert time.monotonic() < deadline, f"report {report_id} never reached the database"
            time.sleep(0.02)

    def metrics(self) -> dict[str, float]:
        response = requests.get(self.url + "/metrics", timeout=10)
        assert response.status_code == 200
        values = {}
        for line in response.text.splitlines():
            if line and not line.startswith("#"):
                key, _, value = line.rpartition(" ")
                values[key] = float(value)
        return values

    # the database, read directly -------------------------------------------------------

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            url = self.database_url or f"sqlite:///{self.data_dir / 'collector.db'}"
            self._engine = create_engine(url, poolclass=NullPool)
        return self._engine

    def row_counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            return {
                table.name: int(conn.execute(select(func.count()).select_from(table)).scalar_one())
                for table in Base.metadata.sorted_tables
            }

    def rows(self, table: str) -> list[dict[str, Any]]:
        """Every row of a table, every column, in a stable order."""
        columns = Base.metadata.tables[table]
        order = list(columns.primary_key.columns)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(select(columns).order_by(*order))]

    def scalar(self, statement: str, **params: Any) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(text(statement), params).scalar()


def start(
    backend: str, root: Path, pg_server: PgServer, extra_args: tuple[str, ...] = ()
) -> Collector:
    """Start a collector with its own data dir (and its own database on PostgreSQL)."""
    data_dir = Path(tempfile.mkdtemp(prefix="collector-", dir=root))
    database_url = pg_server.create_database() if backend == "postgresql" else None
    collector = Collector(backend, data_dir, database_url, free_port(), extra_args)
    collector.start()
    token = collector.cli("token", "create", "--name", "system-tests")
    assert token.returncode == 0, token.stderr
    collector.admin_token = token.stdout.strip().splitlines()[-1]
    return collector


def finish(collector: Collector, pg_server: PgServer) -> None:
    collector.stop()
    if collector.database_url:
        pg_server.drop_database(database_name(collector.database_url))
    shutil.rmtree(collector.data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    server = PgServer()
    yield server
    server.close()


@pytest.fixture(scope="session")
def system_root() -> Iterator[Path]:
    root = Path(tempfile.mkdtemp(prefix="outpost-system-"))
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session", params=BACKENDS)
def collector(
    request: pytest.FixtureRequest, system_root: Path, pg_server: PgServer
) -> Iterator[Collector]:
    """A running collector on SQLite, then on PostgreSQL; shared by the whole session."""
    running = start(str(request.param), system_root, pg_server)
    yield running
    finish(running, pg_server)


StartCollector = Callable[..., Collector]


def _collector_starter(root: Path, pg_server: PgServer) -> Iterator[StartCollector]:
    started: list[Collector] = []

    def _start(backend: str, *extra_args: str) -> Collector:
        running = start(backend, root, pg_server, tuple(extra_args))
        started.append(running)
        return running

    yield _start
    for running in started:
        finish(running, pg_server)


@pytest.fixture
def start_collector(system_root: Path, pg_server: PgServer) -> Iterator[StartCollector]:
    """start_collector(backend, *serve_args): another collector, stopped after the test."""
    yield from _collector_starter(system_root, pg_server)


@pytest.fixture(scope="module")
def start_module_collector(system_root: Path, pg_server: PgServer) -> Iterator[StartCollector]:
    """Like start_collector, for collectors shared by the tests of one module."""
    yield from _collector_starter(system_root, pg_server)


@pytest.fixture(scope="session")
def report_template(system_root: Path) -> dict[str, Any]:
    """One real report of this machine, from `agent --state-dir D facts --json`."""
    done = run_agent(system_root / "facts-agent", "facts", "--json")
    assert done.returncode == 0, done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    return report


@pytest.fixture
def new_report(report_template: dict[str, Any]) -> Callable[[str], dict[str, Any]]:
    """new_report(device_id): the template with a fresh report_id, for that device."""

    def _make(device_id: str) -> dict[str, Any]:
        report = copy.deepcopy(report_template)
        report["report_id"] = str(uuid.uuid4())
        report["device_id"] = device_id
        return report

    return _make


def write_policy(path: Path, body: str) -> Path:
    path.write_text(body, encoding="utf-8")
    return path
