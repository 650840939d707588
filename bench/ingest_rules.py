"""The collector's rule evaluation alone: microseconds per report, this checkout against another.

Evaluates this machine's `agent facts --json` with every rule the collector runs (the agent's and
its own, the default policy, the collector's facts added as in production) through
`server_stub.ingest.evaluation.evaluate_report`. Each evaluation gets a freshly parsed report, as
the collector does (a dict evaluated again and again sits warm in the CPU's caches and reads
about a third faster). With --baseline DIR, a source tree holding agent/ and server_stub/ (e.g.
`git archive COMMIT agent server_stub | tar -x -C DIR`) is measured too, in turns with this
checkout (A, B, A, B ...), each turn a fresh process, so that both lie seconds apart.

Usage: .venv/bin/python bench/ingest_rules.py [--baseline DIR] [--turns 5] [--reports 2000]
Prints one line per turn and a summary: each build's best (minimum) time per evaluation, since
other work on the machine only ever adds to it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def measure(facts: bytes, reports: int) -> float:
    """In this process: the best of 5 passes of REPORTS evaluations, us per evaluation."""
    from datetime import UTC, date, datetime

    import orjson

    from agent.policy import default_policy
    from server_stub.ingest.evaluation import CollectorFacts, collector_evaluator, evaluate_report

    evaluator = collector_evaluator(default_policy())
    now = datetime.now(UTC)
    collector = CollectorFacts("100.64.3.7", True, date(now.year + 1, 1, 1), now, 12.0)
    best = float("inf")
    for _ in range(5):
        parsed = [orjson.loads(facts) for _ in range(reports)]
        start = time.perf_counter()
        for report in parsed:
            evaluate_report(evaluator, report, collector, now)
        best = min(best, (time.perf_counter() - start) / reports)
    return best * 1e6


def turn(tree: Path | None, facts: Path, reports: int) -> float:
    """One measurement in a fresh process, from this checkout or from TREE."""
    env = {**os.environ}
    if tree is not None:
        env["PYTHONPATH"] = str(tree)
    command = [sys.executable, __file__, "--child", str(facts), "--reports", str(reports)]
    done = subprocess.run(command, env=env, cwd=tree or REPO, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"measurement failed:\n{done.stderr}")
    return float(done.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", type=Path)
    parser.add_argument("--turns", type=int, default=5)
    parser.add_argument("--reports", type=int, default=2000)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(measure(args.child.read_bytes(), args.reports))
        return 0
    facts = Path(f"/tmp/outpost-bench-rules-{os.getpid()}.json")
    produced = subprocess.run(
        [str(BIN / "agent"), "facts", "--json"], capture_output=True, check=True
    )
    facts.write_bytes(produced.stdout)
    try:
        builds: dict[str, Path | None] = {"this checkout": None}
        if args.baseline is not None:
            builds["baseline"] = args.baseline.resolve()
        times: dict[str, list[float]] = {name: [] for name in builds}
        for number in range(args.turns):
            for name, tree in builds.items():
                times[name].append(turn(tree, facts, args.reports))
                print(f"turn {number + 1}: {name} {times[name][-1]:.1f} us", file=sys.stderr)
    finally:
        facts.unlink(missing_ok=True)
    for name, values in times.items():
        print(
            f"{name}: best {min(values):.1f} us per evaluation, "
            f"median {statistics.median(values):.1f} us ({len(values)} turns)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
