"""The dashboard and the CSV export at fleet scale: 100,000 devices on PostgreSQL.

Creates DEVICES devices (bulk INSERT) with the latest rule results a real fleet has (21 rules
each; about a third of the devices non-compliant, failing one or two rules), starts the real
`collector serve` (--workers 1), logs in as a dashboard user and times, ROUNDS times each:
the overview (counts, the 30-day trend, the first page by name), a page filtered by state,
a search, a page filtered by a failing rule, the rules view, one device's page, and the whole
CSV export (with the collector's resident memory sampled every 10 ms while it streams).

Floors, on the same database in the same run: the overview's page query run straight through
psycopg (`ORDER BY lower(name) LIMIT 50`), and PostgreSQL's own `COPY (SELECT ...) TO STDOUT
WITH CSV` of the export's columns, the fastest an export of those rows can be.

Usage: .venv/bin/python bench/fleet_pages.py [--devices N] [--rounds R]
Prints a Markdown table on stdout (progress on stderr); cleans up what it made.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import psycopg
import requests
from ingest_load import HOST, progress
from ingest_servers import BIN, free_port, start_server, stop, temporary_database
from sweep import populate

PASSWORD = "bench password, long enough"
RULES = [
    "NET-001", "NET-002", "NET-003", "NET-004", "NET-005", "NET-006", "NET-007", "NET-008",
    "NET-009", "ACC-001", "ACC-002", "PATCH-001", "PATCH-002", "PATCH-003", "PATCH-004",
    "SEC-001", "SEC-002", "SEC-003", "CRED-001", "ADM-001", "ADM-002",
]  # fmt: skip
CSV_COLUMNS = (
    "name, owner, department, approved_by, approval_expires, state, failing_rules, "
    "last_seen_at, reports_received, revoked_at, reports_refused"
)


def add_rule_results(url: str) -> None:
    """Every device gets 21 rule rows; one device in three fails PATCH-002 (and one in six
    SEC-002 too), and is non-compliant with those rules listed."""
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    rules = ", ".join(f"('{r}')" for r in RULES)
    with psycopg.connect(plain, autocommit=True) as connection:
        connection.execute(
            f"""
            INSERT INTO rule_states (device_id, rule_id, title, severity, status, evidence,
                                     remediation, changed_at)
            SELECT d.id, r.rule_id, 'title of ' || r.rule_id, 'high',
                   CASE WHEN r.rule_id = 'PATCH-002' AND d.n % 3 = 0 THEN 'fail'
                        WHEN r.rule_id = 'SEC-002' AND d.n % 6 = 0 THEN 'fail'
                        ELSE 'pass' END,
                   '["bench"]', 'remedy', now()
            FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM devices) d
            CROSS JOIN (VALUES {rules}) AS r(rule_id)
            """
        )
        connection.execute(
            """
            UPDATE devices SET state = 'non_compliant',
                failing_rules = CASE WHEN n % 6 = 0 THEN '["PATCH-002", "SEC-002"]'::json
                                     ELSE '["PATCH-002"]'::json END
            FROM (SELECT id AS nid, row_number() OVER (ORDER BY id) AS n FROM devices) numbered
            WHERE devices.id = numbered.nid AND numbered.n % 3 = 0
            """
        )
        # What autovacuum leaves a settled table with: statistics, and a visibility map that
        # lets counts come from an index alone.
        connection.execute("VACUUM ANALYZE")


def start(url: str, data_dir: Path, scratch: Path) -> tuple[subprocess.Popen[bytes], int]:
    subprocess.run(
        [str(BIN / "collector"), "admin", "create", "bench", "--password-stdin",
         "--data-dir", str(data_dir), "--database-url", url],
        input=PASSWORD.encode(), check=True, capture_output=True,
    )  # fmt: skip
    port = free_port()
    command = [str(BIN / "collector"), "serve", "--data-dir", str(data_dir), "--database-url", url,
               "--port", str(port)]  # fmt: skip
    return start_server(command, None, scratch / "collector.log", port), port


def log_in(base: str) -> requests.Session:
    session = requests.Session()
    form = session.get(f"{base}/login", timeout=30).text
    token = re.search(r'name="login_token" value="([^"]+)"', form)
    data = {"username": "bench", "password": PASSWORD, "login_token": token[1] if token else ""}
    answer = session.post(f"{base}/login", data=data, timeout=30)
    assert "Log out" in answer.text, answer.text[:500]
    return session


def timed(call: object, rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        began = time.perf_counter()
        call()  # type: ignore[operator]
        times.append(time.perf_counter() - began)
    return times


def export_with_memory(session: requests.Session, base: str, pid: int) -> tuple[float, int, float]:
    """(seconds, rows, peak RSS growth in MB) of one whole CSV export."""
    process = psutil.Process(pid)
    before = process.memory_info().rss
    peak = before
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, process.memory_info().rss)
            time.sleep(0.01)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    began = time.perf_counter()
    rows = 0
    with session.get(f"{base}/api/v1/compliance.csv", stream=True, timeout=600) as response:
        for chunk in response.iter_content(65536):
            rows += chunk.count(b"\n")
    seconds = time.perf_counter() - began
    done.set()
    sampler.join()
    return seconds, rows - 1, (peak - before) / 2**20


def floor_page(url: str, rounds: int) -> list[float]:
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain) as connection:
        return timed(
            lambda: connection.execute(
                "SELECT * FROM devices ORDER BY lower(name), id LIMIT 50"
            ).fetchall(),
            rounds,
        )


def floor_copy(url: str) -> tuple[float, int]:
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain) as connection, connection.cursor() as cursor:
        began = time.perf_counter()
        rows = 0
        sql = (
            f"COPY (SELECT {CSV_COLUMNS} FROM devices ORDER BY lower(name), id) TO STDOUT WITH CSV"
        )
        with cursor.copy(sql) as copy:
            for data in copy:
                rows += bytes(data).count(b"\n")
        return time.perf_counter() - began, rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="outpost-pages-") as folder:
        scratch = Path(folder)
        with temporary_database("postgresql", scratch) as database:
            progress(f"creating {args.devices} devices with their rule results")
            populate(database.url, args.devices)
            add_rule_results(database.url)
            process, port = start(database.url, database.data_dir, scratch)
            base = f"http://{HOST}:{port}"
            try:
                session = log_in(base)
                device = session.get(f"{base}/", timeout=60).text
                first = re.search(r'href="(/devices/[0-9a-f-]{36})"', device)
                assert first, device[:500]
                pages = {
                    "overview (counts, 30-day trend, first page by name)": "/",
                    "filtered by state": "/?state=non_compliant",
                    "search": "/?q=bench-0421",
                    "filtered by a failing rule": "/?rule=SEC-002",
                    "rules view": "/rules",
                    "one device's page": first[1],
                }
                rows = []
                for label, path in pages.items():
                    session.get(base + path, timeout=60)  # warm
                    times = timed(lambda p=path: session.get(base + p, timeout=60), args.rounds)
                    rows.append((label, times))
                floor = floor_page(database.url, args.rounds)
                export = [export_with_memory(session, base, process.pid) for _ in range(3)]
                copy = [floor_copy(database.url) for _ in range(3)]
            finally:
                stop(process)
    print(f"| page ({args.devices:,} devices, PostgreSQL) | median (ms) | p95 (ms) |")
    print("| --- | ---: | ---: |")
    for label, times in rows:
        p95 = statistics.quantiles(times, n=20)[18]
        print(f"| {label} | {statistics.median(times) * 1000:.1f} | {p95 * 1000:.1f} |")
    p95 = statistics.quantiles(floor, n=20)[18]
    print(f"| floor: the page query through psycopg | {statistics.median(floor) * 1000:.1f} "
          f"| {p95 * 1000:.1f} |")  # fmt: skip
    print()
    print("| export | seconds (best of 3) | rows | rows/s | collector RSS growth (MB, worst) |")
    print("| --- | ---: | ---: | ---: | ---: |")
    best = min(export)
    worst_mb = max(e[2] for e in export)
    print(f"| /api/v1/compliance.csv | {best[0]:.2f} | {best[1]:,} | {best[1] / best[0]:,.0f} "
          f"| {worst_mb:.1f} |")  # fmt: skip
    fastest = min(copy)
    print(f"| floor: PostgreSQL COPY ... TO STDOUT WITH CSV | {fastest[0]:.2f} | {fastest[1]:,} "
          f"| {fastest[1] / fastest[0]:,.0f} | - |")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
