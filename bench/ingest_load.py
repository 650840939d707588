"""The load generator of bench/ingest.py, run as its own process: closed-loop HTTP/1.1 senders.

CONCURRENCY keep-alive connections, each sending one report at a time; warm-up first, then a
measured window; CPU of the server, PostgreSQL, this process and the machine taken around the
window. Run by bench/ingest.py as `python bench/ingest_load.py SPEC.json`; prints one JSON line.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import json
import random
import statistics
import sys
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil
import psycopg

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


def hostname(index: int) -> str:
    return f"bench-{index:04d}.example.test"


def hardware_id_hash(name: str) -> str:
    """Each bench device's own hardware id hash (enrolment binds the secret to it)."""
    return hashlib.sha256(name.encode()).hexdigest()


if __name__ == "__main__":
    sys.exit(load_main(sys.argv[1]))
