"""Kill soak, long form: N real agents report for M minutes while the collector is SIGKILLed.

    .venv/bin/python bench/soak.py --agents 50 --minutes 10 [--backends sqlite,postgresql]

The same engine as tests/system/test_kill_soak.py (tests/system/soak.py): each agent has its own
state directory and is enrolled against a real `collector serve` (SQLite in a temporary data
directory; PostgreSQL in a throwaway database on 127.0.0.1:5432 or OUTPOST_TEST_PG_URL); agents
run `agent send` one after another (at most --concurrency at once: each send is a Python
process with about a second of CPU) while the collector is SIGKILLed every --kill-every seconds
(random in the range) and restarted. Then every spool is flushed with `agent send --flush-only`
until empty and every report id an agent made is looked for in the database. --minutes is the
total sending time, split evenly over the backends (cases). Exit 0 only if nothing was lost,
duplicated, unknown or refused.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.system.conftest import BACKENDS, finish, start
from tests.system.pg import PgServer
from tests.system.soak import SoakResult, run_soak


def span(text: str) -> tuple[float, float]:
    low, _, high = text.partition("-")
    return float(low), float(high or low)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--minutes", type=float, default=10.0, help="total, over all backends")
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument("--concurrency", type=int, default=8, help="agent sends at once")
    parser.add_argument("--kill-every", type=span, default=(5.0, 20.0), help="seconds, A-B")
    parser.add_argument("--down", type=span, default=(0.0, 3.0), help="seconds, A-B")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    backends = [b for b in args.backends.split(",") if b]
    per_case_s = args.minutes * 60 / len(backends)
    pg_server = PgServer()
    root = Path(tempfile.mkdtemp(prefix="outpost-soak-"))
    results: list[SoakResult] = []
    started = time.monotonic()

    def progress(message: str) -> None:
        print(f"[{time.monotonic() - started:7.1f} s] {message}", flush=True)

    try:
        for backend in backends:
            collector = start(backend, root, pg_server)
            try:
                results.append(
                    run_soak(
                        collector,
                        root / backend,
                        agents=args.agents,
                        duration_s=per_case_s,
                        every_s=args.kill_every,
                        down_s=args.down,
                        concurrency=args.concurrency,
                        seed=args.seed,
                        progress=progress,
                    )
                )
            finally:
                finish(collector, pg_server)
            progress(results[-1].summary())
    finally:
        pg_server.close()
        shutil.rmtree(root, ignore_errors=True)
    print()
    print("| case | agents | kills | sends | reports made | stored | lost | duplicated | time |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in results:
        print(
            f"| {r.backend} | {r.agents} | {r.kills} | {r.sends} | {len(r.made)} | {r.stored} "
            f"| {len(r.lost)} | {r.duplicated} | {r.seconds:.0f} s |"
        )
    for r in results:
        for failure in r.failures[:5]:
            print(f"{r.backend}: {failure}", file=sys.stderr)
    return 0 if all(r.clean for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
