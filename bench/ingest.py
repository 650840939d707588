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

The load comes from a second process (bench/ingest_load.py): CONCURRENCY keep-alive
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
import contextlib
import copy
import json
import shutil
import signal
import subprocess
import sys
import tempfile
import uuid
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import TextIO

import psutil
import psycopg
from ingest_load import (
    MARKERS,
    PG_SERVER,
    LoadResult,
    LoadSpec,
    hardware_id_hash,
    hostname,
    progress,
)
from ingest_servers import (
    BASELINE_PAIR,
    BIN,
    COLLECTORS,
    FAST_PATH_PAIR,
    Database,
    Server,
    enrol_all,
    prepare,
    running,
    tail,
    temporary_database,
)
from ingest_tables import Row, ab_markdown, markdown

BENCH_DIR = Path(__file__).resolve().parent


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


def run_load(spec: LoadSpec, scratch: Path) -> LoadResult:
    spec_path = scratch / "load-spec.json"
    spec_path.write_text(json.dumps(asdict(spec)))
    done = subprocess.run(
        [sys.executable, str(BENCH_DIR / "ingest_load.py"), str(spec_path)],
        capture_output=True,
        text=True,
        timeout=spec.warmup + spec.seconds + 120,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"load generator failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return LoadResult(**json.loads(done.stdout.strip().splitlines()[-1]))


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
        progress(f"end of the server's log:\n{tail(server.log, 12)}")
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
                progress(f"last lines of {log.name}:\n{tail(log, 15)}")
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
    args = parser.parse_args()
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
