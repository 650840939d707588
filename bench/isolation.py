"""The isolation probe's cost: one report (`agent facts --json`) with the policy's three
internal-only targets beside the same report with none, in the same run, on each network of
tests/system/isolation_lab.py (root only):

  - public             a laptop outside: the internal names do not exist, the campus range is
                       black-holed (the common case: the TCP target waits out the budget)
  - public_silent_dns  outside, and the resolver never answers (the worst case: all budget)
  - hotspot            inside, behind a hotspot on the campus network: everything answers

Runs alternate (without, with) so that drift hits both alike. The floor is the report without
targets: the probe then tries nothing. Collection time is the report's own: every probe's
duration_ms, summed (process start and JSON printing excluded); the wall column is the whole
`agent facts --json` process, paired run by run.

Usage: sudo .venv/bin/python bench/isolation.py [--runs N]
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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.system.isolation_lab import TARGETS, Lab, Network, lab

AGENT = str(Path(sys.executable).parent / "agent")
NETWORKS: tuple[Network, ...] = ("public", "public_silent_dns", "hotspot")
POLICY = '[organisation]\nname = "Bench"\n[network]\ninternal_cidrs = ["198.51.100.0/24"]\n'


def one_report(made: Lab, folder: Path, policy: Path) -> tuple[float, int, int]:
    """Wall seconds of `agent facts --json` in the laptop's namespace, the isolation probe's
    own duration_ms and the report's collection time (every probe's duration_ms, summed)."""
    started = time.perf_counter()
    done = subprocess.run(
        [*made.exec(), AGENT, "--config", str(folder / "agent.toml"), "--state-dir",
         str(folder / "state"), "--policy", str(policy), "facts", "--json"],
        capture_output=True, text=True, timeout=120, check=True,
        env={**os.environ, "NO_COLOR": "1"},
    )  # fmt: skip
    wall = time.perf_counter() - started
    probes = json.loads(done.stdout)["probes"]
    assert probes["isolation"]["status"] == "ok", probes["isolation"]
    collection = sum(int(result["duration_ms"]) for result in probes.values())
    return wall, int(probes["isolation"]["duration_ms"]), collection


def measure(network: Network, runs: int, folder: Path) -> dict[str, float]:
    without, with_targets = folder / "none.toml", folder / "targets.toml"
    without.write_text(POLICY)
    with_targets.write_text(POLICY + f"internal_probes = {json.dumps(list(TARGETS))}\n")
    walls: dict[str, list[float]] = {"none": [], "targets": []}
    collections: dict[str, list[int]] = {"none": [], "targets": []}
    probe_ms: list[int] = []
    with lab(network, folder) as made:
        one_report(made, folder, with_targets)  # warm-up: page cache, the resolver's first query
        for _ in range(runs):
            wall, _, collection = one_report(made, folder, without)
            walls["none"].append(wall)
            collections["none"].append(collection)
            wall, duration, collection = one_report(made, folder, with_targets)
            walls["targets"].append(wall)
            collections["targets"].append(collection)
            probe_ms.append(duration)
    pairs = [t - n for n, t in zip(walls["none"], walls["targets"], strict=True)]
    return {
        "none": statistics.median(collections["none"]) / 1000,
        "targets": statistics.median(collections["targets"]) / 1000,
        "added": statistics.median(pairs),
        "probe_median_ms": statistics.median(probe_ms),
        "probe_max_ms": max(probe_ms),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    print(
        "| network | collection, no targets: median (s) | collection, 3 targets: median (s) "
        "| isolation probe median (ms) | isolation probe max (ms) "
        "| `agent facts` wall added: median of pairs (s) |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for network in NETWORKS:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            (folder / "home").mkdir()
            (folder / "agent.toml").write_text(f'[credentials]\nhomes = ["{folder / "home"}"]\n')
            row = measure(network, args.runs, folder)
        print(
            f"| {network} | {row['none']:.3f} | {row['targets']:.3f} | "
            f"{row['probe_median_ms']:.0f} | {row['probe_max_ms']:.0f} | {row['added']:+.3f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
