"""Self-check footprint: wall time, CPU time and peak RSS, beside the floors it cannot beat.

Each row runs N times in a fresh child process that reports its own rusage (RUSAGE_SELF) and
that of the commands it ran (RUSAGE_CHILDREN), so the agent's own cost and the cost of the OS
tools it asks (apt, ip, lsblk...) are told apart. Floors, measured in the same run:
  - python -c pass                  the interpreter starting and stopping
  - import the agent's libraries    psutil, netifaces and the agent's modules, doing nothing
  - apt list --upgradable           the slowest OS command the Linux self-check needs

Usage: .venv/bin/python bench/agent_footprint.py [--runs N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

MEASURE = """
import contextlib, io, json, resource, sys, time
started = time.perf_counter()
{body}
me = resource.getrusage(resource.RUSAGE_SELF)
kids = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({{"wall": time.perf_counter() - started,
    "cpu": me.ru_utime + me.ru_stime, "rss": me.ru_maxrss / 1024,
    "kid_cpu": kids.ru_utime + kids.ru_stime, "kid_rss": kids.ru_maxrss / 1024}}))
"""

BODIES = {
    "floor: python -c pass": "pass",
    "floor: import the agent's libraries": "import psutil, netifaces, agent.cli",
    "floor: apt list --upgradable": (
        "import subprocess\n"
        "subprocess.run(['apt', 'list', '--upgradable'], capture_output=True, check=True)"
    ),
    "agent --self-check --json": (
        "from agent.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    code = main(['--self-check', '--json'])\n"
        "assert code in (0, 1, 3), code"
    ),
}


def run_once(body: str, state_dir: str) -> dict[str, float]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", MEASURE.format(body=body)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "OUTPOST_STATE_DIR": state_dir},  # leave nothing on the machine
    )
    sample: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    sample["process_wall"] = time.perf_counter() - started  # includes interpreter start-up
    return sample


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    print(
        "| what | wall median (s) | wall max (s) | own CPU median (s) | own peak RSS (MB) "
        "| commands' CPU median (s) | commands' peak RSS (MB) |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    state = tempfile.TemporaryDirectory(prefix="outpost-bench-")
    for name, body in BODIES.items():
        run_once(body, state.name)  # warm the page cache
        samples = [run_once(body, state.name) for _ in range(args.runs)]

        def median(key: str, samples: list[dict[str, float]] = samples) -> float:
            return statistics.median(s[key] for s in samples)

        print(
            f"| {name} | {median('process_wall'):.3f} "
            f"| {max(s['process_wall'] for s in samples):.3f} | {median('cpu'):.3f} "
            f"| {max(s['rss'] for s in samples):.1f} | {median('kid_cpu'):.3f} "
            f"| {max(s['kid_rss'] for s in samples):.1f} |"
        )


if __name__ == "__main__":
    main()
