"""The background service's footprint: idle RSS and CPU, CPU and bytes per report.

Starts a real collector (SQLite, loopback) and a real enrolled `agent run` with a one-hour
interval, then measures:
  - idle: the service process's RSS and CPU time (from /proc) over --idle-seconds, with no
    report due, extrapolated to CPU-seconds per hour;
  - per report: N `agent send` runs, each in a child process (its own CPU and peak RSS, from
    wait4), and the gzip-compressed size of a report as sent.
Beside published limits of peers (not measured here): osquery's watchdog (200 MB RSS, 10% CPU)
and Wazuh's agent (35 MB average RSS, as Wazuh documents).

Usage: .venv/bin/python bench/service_footprint.py [--idle-seconds 120] [--reports 5]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
ENV = {**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}
TICKS = os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime, own only


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def _run(*argv: str) -> str:
    return subprocess.run(argv, env=ENV, capture_output=True, text=True, check=True).stdout


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--idle-seconds", type=float, default=120.0)
    parser.add_argument("--reports", type=int, default=5)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="outpost-bench-"))
    data, state, port = root / "collector", root / "agent", _free_port()
    collector = subprocess.Popen(
        [str(BIN / "collector"), "serve", "--data-dir", str(data), "--port", str(port)],
        env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    service = None
    try:
        token = _run(
            str(BIN / "collector"), "device", "register", "bench", "--owner", "o",
            "--department", "d", "--approved-by", "h", "--justification", "bench",
            "--expires", "2099-01-01", "--data-dir", str(data),
        ).splitlines()[-1]  # fmt: skip
        time.sleep(2)
        url = f"http://127.0.0.1:{port}"
        _run(str(BIN / "agent"), "--state-dir", str(state), "enroll", "--server", url,
             "--token", token)  # fmt: skip

        per_report_cpu, per_report_rss = [], []
        for _ in range(args.reports):
            started = subprocess.Popen(
                [str(BIN / "agent"), "--state-dir", str(state), "send"],
                env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            _, _, usage = os.wait4(started.pid, 0)
            per_report_cpu.append(usage.ru_utime + usage.ru_stime)
            per_report_rss.append(usage.ru_maxrss / 1024)
        facts = _run(str(BIN / "agent"), "--state-dir", str(state), "facts", "--json")
        report = json.dumps(json.loads(facts), separators=(",", ":")).encode()

        service = subprocess.Popen(
            [str(BIN / "agent"), "--state-dir", str(state), "run", "--interval", "3600",
             "--log-file", str(root / "agent.log")],
            env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        time.sleep(40)  # past start-up and the first (jittered, <= 30 s) report
        cpu_before, at_before = _cpu_seconds(service.pid), time.monotonic()
        rss = [_rss_mb(service.pid)]
        deadline = at_before + args.idle_seconds
        while time.monotonic() < deadline:
            time.sleep(5)
            rss.append(_rss_mb(service.pid))
        idle_cpu = _cpu_seconds(service.pid) - cpu_before
        per_hour = idle_cpu * 3600 / (time.monotonic() - at_before)
        print(
            "| measure | Outpost agent | goal | osquery watchdog limit | Wazuh agent (published) |"
        )
        print("| --- | ---: | ---: | ---: | ---: |")
        print(f"| idle RSS, service process (MB) | {max(rss):.1f} | 30 | 200 | 35 (average) |")
        print(f"| idle CPU (CPU-seconds per hour) | {per_hour:.2f} | 2 | 360 (10%) | - |")
        print(
            f"| CPU per report, `agent send` (s, median of {args.reports}) "
            f"| {statistics.median(per_report_cpu):.2f} | - | - | - |"
        )
        label = "peak RSS per report, incl. the OS tools it runs (MB)"
        print(f"| {label} | {max(per_report_rss):.1f} | - | - | - |")
        print(
            f"| bytes per report (JSON / gzip) | {len(report)} / {len(gzip.compress(report, 6))} "
            "| - | - | - |"
        )
        print(f"\nidle window: {args.idle_seconds:.0f} s; idle CPU measured: {idle_cpu:.3f} s")
    finally:
        if service is not None:
            service.send_signal(signal.SIGTERM)
            service.wait(60)
        collector.terminate()
        collector.wait(10)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
