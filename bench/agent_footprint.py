"""Self-check footprint: wall time, CPU time and peak RSS, beside the floors it cannot beat.

Each row runs N times in a fresh child process that reports its own rusage (RUSAGE_SELF) and
that of the commands it ran (RUSAGE_CHILDREN), so the agent's own cost and the cost of the OS
tools it asks (apt, ip, lsblk...) are told apart. The rows take turns (one run of each, N
rounds), so a machine busy with other work weighs on every row alike. Floors, measured in the
same run:
  - python -c pass                  the interpreter starting and stopping
  - import the agent's libraries    every module a self-check loads (found by running one
                                    first: the agent's own, psutil, netifaces, the standard
                                    library's), doing nothing; an unenrolled self-check does
                                    not load requests, so neither does this floor (the header
                                    says which HTTP modules the list holds)
  - apt list --upgradable           the package manager's own answer, the slowest OS command
                                    the Linux self-check needs
  - both                            the two above in one process: what a self-check cannot
                                    beat; the last columns are each row's wall, and its CPU
                                    time with its commands', against it (CPU time is the
                                    steadier on a machine busy with other work)

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
from datetime import UTC, datetime

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

SELF_CHECK = (
    "from agent.cli import main\n"
    "with contextlib.redirect_stdout(io.StringIO()):\n"
    "    code = main(['--self-check', '--json'])\n"
    "assert code in (0, 1, 3), code"
)
APT = (
    "import subprocess\n"
    "subprocess.run(['apt', 'list', '--upgradable'], capture_output=True, check=True)\n"
)
LIST_MODULES = SELF_CHECK + "\nprint(json.dumps(sorted(sys.modules)), file=sys.stderr)"
FLOOR = "floor: import the agent's libraries + apt list --upgradable"


def self_check_modules(state_dir: str) -> list[str]:
    """Every module a self-check has loaded when it ends (importable by name)."""
    done = subprocess.run(
        [sys.executable, "-c", "import contextlib, io, json, sys\n" + LIST_MODULES],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "OUTPOST_STATE_DIR": state_dir},
    )
    names: list[str] = json.loads(done.stderr.strip().splitlines()[-1])
    return [n for n in names if n != "__main__" and not n.startswith("_frozen")]


def bodies(modules: list[str]) -> dict[str, str]:
    imports = (
        "import importlib\n"
        f"for name in {modules!r}:\n"
        "    with contextlib.suppress(ImportError):  # a module only made at run time\n"
        "        importlib.import_module(name)\n"
    )
    return {
        "floor: python -c pass": "pass",
        "floor: import the agent's libraries": imports,
        "floor: apt list --upgradable": APT,
        FLOOR: imports + APT,
        "agent --self-check --json": SELF_CHECK,
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
    state = tempfile.TemporaryDirectory(prefix="outpost-bench-")
    modules = self_check_modules(state.name)
    rows = bodies(modules)
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in rows}
    for body in rows.values():
        run_once(body, state.name)  # warm the page cache
    for _ in range(args.runs):
        for name, body in rows.items():
            samples[name].append(run_once(body, state.name))
    print(
        f"`.venv/bin/python bench/agent_footprint.py --runs {args.runs}` on "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {args.runs} rounds after one warm-up; "
        f"the import floor loads the {len(modules)} modules a self-check loads; "
        f"load average at the end {os.getloadavg()[0]:.1f}; HTTP modules among them: "
        f"{', '.join(m for m in ('requests', 'urllib3', 'ssl') if m in modules) or 'none'}\n"
    )
    print(
        "| what | wall median (s) | wall max (s) | own CPU median (s) | own peak RSS (MB) "
        "| commands' CPU median (s) | commands' peak RSS (MB) | wall vs floor | CPU vs floor |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    floor = statistics.median(s["process_wall"] for s in samples[FLOOR])
    floor_cpu = statistics.median(s["cpu"] + s["kid_cpu"] for s in samples[FLOOR])
    for name, runs in samples.items():

        def median(key: str, runs: list[dict[str, float]] = runs) -> float:
            return statistics.median(s[key] for s in runs)

        print(
            f"| {name} | {median('process_wall'):.3f} "
            f"| {max(s['process_wall'] for s in runs):.3f} | {median('cpu'):.3f} "
            f"| {max(s['rss'] for s in runs):.1f} | {median('kid_cpu'):.3f} "
            f"| {max(s['kid_rss'] for s in runs):.1f} | {median('process_wall') / floor:.2f}x "
            f"| {statistics.median(s['cpu'] + s['kid_cpu'] for s in runs) / floor_cpu:.2f}x |"
        )


if __name__ == "__main__":
    main()
