"""Start-up and per-report cost of the agent: `agent --version` (start-up alone) and `agent
facts --json` (one report collected, nothing sent) from a virtualenv, a one-directory build and a
one-file build, in one run.

The service starts one `agent send` per report and per network change, so what a start costs
before any work is paid each time. The one-file build unpacks itself into a temporary folder on
every start; the one-directory build (what the packages install) does not. The virtualenv is
the floor: the same interpreter and modules, nothing bundled. Rows are interleaved run by run
so that a busy machine slows them alike. CPU is user + system time of the child and everything
it started (os.wait4), wall is the time until it exited.

Build both layouts first:
  packaging/build_binary.sh onedir && packaging/build_binary.sh onefile
Usage: .venv/bin/python bench/agent_startup.py [--runs N] [--report-runs N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ROWS = {
    "floor: virtualenv (.venv/bin/agent)": Path(sys.executable).parent / "agent",
    "one-directory build (packages)": ROOT / "dist" / "onedir" / "agent" / "agent",
    "one-file build": ROOT / "dist" / "onefile" / "agent",
}


def run_once(program: Path, tmp: str, args: list[str]) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of one `program ARGS`, its children included."""
    started = time.perf_counter()
    child = subprocess.Popen(
        [str(program), "--state-dir", f"{tmp}/state", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={"PATH": "/usr/bin:/bin", "TMPDIR": tmp, "HOME": tmp},
    )
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"{program} {' '.join(args)} exited {child.returncode}")
    return usage.ru_utime + usage.ru_stime, wall


def table(args: list[str], runs: int, tmp: str) -> None:
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in ROWS}
    for program in ROWS.values():
        run_once(program, tmp, args)  # warm the page cache: every row starts from the same place
    for _ in range(runs):
        for name, program in ROWS.items():
            samples[name].append(run_once(program, tmp, args))
    floor = statistics.median(cpu for cpu, _ in samples[next(iter(ROWS))])
    print(f"\nagent {' '.join(args)}, {runs} runs each, interleaved; medians")
    print(f"| {'what':<38} | CPU s | wall s | CPU vs floor |")
    print(f"| {'-' * 38} | ----: | -----: | -----------: |")
    for name, rows in samples.items():
        cpu = statistics.median(c for c, _ in rows)
        wall = statistics.median(w for _, w in rows)
        print(f"| {name:<38} | {cpu:.3f} | {wall:.3f} | {cpu / floor:.1f}x |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30, help="runs of agent --version")
    parser.add_argument("--report-runs", type=int, default=10, help="runs of agent facts --json")
    args = parser.parse_args()
    missing = [str(p) for p in ROWS.values() if not p.exists()]
    if missing:
        raise SystemExit(f"build these first (packaging/build_binary.sh): {', '.join(missing)}")
    with tempfile.TemporaryDirectory() as tmp:
        table(["--version"], args.runs, tmp)
        table(["facts", "--json"], args.report_runs, tmp)


if __name__ == "__main__":
    main()
