"""Network change -> collector: how long a move onto an internal network takes to show.

The agent service (`agent run`) in a network namespace on a 'public' link (203.0.113.34/28,
the host side 203.0.113.33), a real `collector serve` with TLS on the host side (SQLite), both with
the built-in policy pack (egress range moved off the test link, so only the move changes the
network rules). Each run moves the agent onto the internal range 198.51.100.0/24, by its
default gateway (NET-002) or by an address (NET-001), alternately, polls the collector's API
every 50 ms until that rule fails, then moves back and waits until it passes again.

Per run, from three clocks on this one machine (the namespace shares the host's clock):
  - move -> decided   the service's "network changed: reporting now" log line (its netlink
                      wake-up, then its quiet wait of agent/service/run.py QUIET_S);
  - decided -> stored the report's `received_at` on the collector: the `agent send` child (since
                      issue #13 started at the first event, so its start overlaps the quiet
                      wait) collecting the report, then sending it. The "collect" column sums
                      the `duration_ms` of the probes run for this report; results reused from
                      the last collection (`collected_at` before the report's) are counted in
                      "reports reusing", not in "collect";
  - stored -> shown   the poll that first saw the rule failing (50 ms poll).

With --baseline DIR the same is done for the agent service of another source tree (served by
this virtualenv with DIR first on PYTHONPATH; the collector stays this checkout's), in
alternating blocks of --block moves, each block a fresh service: an A/B in one run.

Usage (root: namespaces): sudo .venv/bin/python bench/netchange.py [--runs N]
           [--baseline DIR [--block N]]
Prints a Markdown table on stdout, progress on stderr; removes the namespace, the collector
and its temporary files, also on failure.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import re
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

import psutil
import requests

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ENV = {**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}
# A /28 of its own: the host's route for the link must not take the rest of 203.0.113.0/24,
# where this machine's package registries may answer, nor the 203.0.113.1/.2 pair that the
# namespace tests use (a test running beside the bench would lose its answers to it).
HOST_ADDRESS, AGENT_ADDRESS = "203.0.113.33", "203.0.113.34"
LINK_PREFIX = 28
POLL_S = 0.05
# After a move back: longer than the service's second look (agent/service/run.py SETTLE_S,
# 2 s after the first event), so that it cannot fall inside the next measurement.
SETTLE_GAP_S = 2.5
DEFAULT_EGRESS = 'egress_cidrs = ["203.0.113.0/26"]'
LOG_LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) .*network changed: reporting now")


def progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run(*args: str, prefix: tuple[str, ...] = ()) -> str:
    done = subprocess.run(
        [*prefix, *args], capture_output=True, text=True, env=ENV, timeout=120, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)}: {done.stderr.strip()}")
    return done.stdout.strip()


@contextlib.contextmanager
def namespace() -> Iterator[str]:
    tag = uuid.uuid4().hex[:6]
    name, host_if, agent_if = f"opbench-{tag}", f"obh{tag}", f"oba{tag}"
    run("ip", "netns", "add", name)
    try:
        run("ip", "link", "add", host_if, "type", "veth", "peer", "name", agent_if)
        run("ip", "link", "set", agent_if, "netns", name)
        run("ip", "addr", "add", f"{HOST_ADDRESS}/{LINK_PREFIX}", "dev", host_if)
        run("ip", "link", "set", host_if, "up")
        run("ip", "-n", name, "link", "set", "lo", "up")
        run("ip", "-n", name, "addr", "add", f"{AGENT_ADDRESS}/{LINK_PREFIX}", "dev", agent_if)
        run("ip", "-n", name, "link", "set", agent_if, "up")
        run("ip", "-n", name, "route", "add", "default", "via", HOST_ADDRESS)
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False, capture_output=True)
        subprocess.run(["ip", "link", "del", host_if], check=False, capture_output=True)


def agent_if(name: str) -> str:
    return "oba" + name.removeprefix("opbench-")


def move(name: str, how: str, onto_internal: bool) -> None:
    """Onto 198.51.100.0/24 (by gateway or address) or back to the public link alone."""
    device = agent_if(name)
    if how == "gateway":
        gateway = "198.51.100.1" if onto_internal else HOST_ADDRESS
        run("ip", "-n", name, "route", "replace", "default", "via", gateway, "dev", device,
            "onlink")  # fmt: skip
    else:
        verb = "add" if onto_internal else "del"
        run("ip", "-n", name, "addr", verb, "198.51.100.7/24", "dev", device)


@dataclass
class Collector:
    data_dir: Path
    port: int
    cert: str
    token: str
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"https://{HOST_ADDRESS}:{self.port}"

    def rules(self, device_id: str) -> dict[str, str]:
        answer = requests.get(
            f"{self.url}/api/v1/devices/{device_id}",
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=5,
            verify=self.cert,
        )
        answer.raise_for_status()
        return {r["id"]: r["status"] for r in answer.json()["rules"]}

    def latest_report(self, device_id: str) -> tuple[int, datetime, dict[str, Any]]:
        """(how many reports are stored, the newest's received_at, its body)."""
        with sqlite3.connect(self.data_dir / "collector.db") as db:
            count = db.execute("SELECT count(*) FROM reports WHERE device_id = ?", (device_id,))
            total = int(count.fetchone()[0])
            row = db.execute(
                "SELECT received_at, body FROM reports WHERE device_id = ? "
                "ORDER BY received_at DESC LIMIT 1",
                (device_id,),
            ).fetchone()
        received = datetime.fromisoformat(str(row[0]))
        if received.tzinfo is None:
            received = received.replace(tzinfo=UTC)  # stored as UTC
        return total, received, json.loads(row[1])


def start_collector(folder: Path, policy: Path) -> Collector:
    data = folder / "collector"
    token = run(str(BIN / "collector"), "token", "create", "--name", "bench", "--data-dir",
                str(data)).splitlines()[-1]  # fmt: skip
    cert, key = folder / "cert.pem", folder / "key.pem"
    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        "-keyout", str(key), "-out", str(cert), "-subj", f"/CN={HOST_ADDRESS}",
        "-addext", f"subjectAltName=IP:{HOST_ADDRESS}")  # fmt: skip
    port = free_port()
    collector = Collector(data, port, str(cert), token)
    collector.process = subprocess.Popen(
        [str(BIN / "collector"), "serve", "--data-dir", str(data), "--host", HOST_ADDRESS,
         "--port", str(port), "--policy", str(policy), "--tls-cert", str(cert),
         "--tls-key", str(key)],
        env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    until(lambda: _healthy(collector), 30, "the collector to answer")
    return collector


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _healthy(collector: Collector) -> bool:
    try:
        return requests.get(f"{collector.url}/healthz", timeout=1, verify=collector.cert).ok
    except requests.RequestException:
        return False


def until(check: Any, timeout: float, what: str, every: float = POLL_S) -> float:
    """Poll until check() holds; -> time.time() when it first did."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return time.time()
        time.sleep(every)
    raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}")


def stop(process: subprocess.Popen[Any] | None) -> None:
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def reused(probe: dict[str, Any], report: dict[str, Any]) -> bool:
    """A probe result older than its report (agents before issue #13 send no collected_at)."""
    stamp = probe.get("collected_at")
    return stamp is not None and str(stamp) < str(report["collected_at"])


def decided_at(log: Path, after: float) -> float:
    """The first 'network changed' log line at or after `after` (time.time())."""
    for line in log.read_text(errors="replace").splitlines():
        found = LOG_LINE.match(line)
        if found:
            stamp = datetime.strptime(found.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp()
            if stamp >= after - 0.001:
                return stamp
    return float("nan")


@dataclass
class Sample:
    build: str
    how: str
    total: float
    decided: float
    stored: float
    shown: float
    durations: dict[str, float]  # the probes run for this report
    reused: tuple[str, ...] = ()  # the probes whose result came from an earlier collection

    @property
    def collect(self) -> float:
        return sum(self.durations.values())


def measure(runs: int, folder: Path, baseline: str | None, block: int) -> list[Sample]:
    """RUNS moves with this checkout's service; with BASELINE, as many with the baseline's,
    in alternating blocks of BLOCK moves (each block a fresh service), same collector."""
    policy = folder / "policy.toml"
    pack = (REPO / "agent/policy/default.toml").read_text()
    assert DEFAULT_EGRESS in pack, "the built-in pack's egress range moved: update the bench"
    policy.write_text(pack.replace(DEFAULT_EGRESS, 'egress_cidrs = ["192.0.2.128/25"]'))
    samples: list[Sample] = []
    with namespace() as ns:
        prefix = ("ip", "netns", "exec", ns)
        collector = start_collector(folder, policy)
        try:
            token = run(str(BIN / "collector"), "device", "register", "bench-netchange",
                "--owner", "o", "--department", "d", "--approved-by", "h",
                "--justification", "bench", "--expires", "2099-01-01",
                "--data-dir", str(collector.data_dir)).splitlines()[-1]  # fmt: skip
            state = folder / "agent"
            run(str(BIN / "agent"), "--state-dir", str(state), "enroll", "--server",
                collector.url, "--token", token, "--ca-file", collector.cert,
                prefix=prefix)  # fmt: skip
            device_id = json.loads((state / "enrolment.json").read_text())["device_id"]
            run(str(BIN / "agent"), "--state-dir", str(state), "--policy", str(policy), "send",
                prefix=prefix)  # fmt: skip
            builds = [("this checkout", None)] + ([("baseline", baseline)] if baseline else [])
            done = dict.fromkeys([name for name, _ in builds], 0)
            while any(count < runs for count in done.values()):
                for build, tree in builds:
                    moves = min(block, runs - done[build])
                    if moves:
                        env = {**ENV, "PYTHONPATH": tree} if tree else ENV
                        samples += service_block(
                            ns, collector, device_id, state, policy, build, env, moves,
                            first=done[build], log=folder / f"agent-{build.split()[0]}.log",
                        )  # fmt: skip
                        done[build] += moves
        finally:
            stop(collector.process)
    return samples


def empty_dir(path: Path) -> Path:
    path.mkdir(exist_ok=True)
    return path


def service_block(
    ns: str,
    collector: Collector,
    device_id: str,
    state: Path,
    policy: Path,
    build: str,
    env: dict[str, str],
    moves: int,
    first: int,
    log: Path,
) -> list[Sample]:
    """A fresh `agent run` of BUILD; MOVES moves onto the internal network and back."""
    prefix = ("ip", "netns", "exec", ns)
    samples: list[Sample] = []
    service = subprocess.Popen(
        [*prefix, str(BIN / "agent"), "--state-dir", str(state), "--policy",
         str(policy), "run", "--interval", "3600", "--log-file", str(log)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        # Not the checkout, nor the folder with the state directory `agent`: the service's
        # report children run `python -m agent.cli`, which looks in the working directory first.
        cwd=empty_dir(log.parent / "cwd"),
    )  # fmt: skip
    try:
        # The service's first scheduled report comes within 30 s of its start: let it pass,
        # so that no scheduled report lands inside a measurement.
        progress(f"{build}: waiting for the service's first scheduled report")
        before = collector.latest_report(device_id)[0]
        try:
            until(lambda: collector.latest_report(device_id)[0] > before, 45, "a first report")
        except RuntimeError as exc:
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else "(no log)"
            raise RuntimeError(f"{exc}; the service's log ends:\n{tail}") from exc
        time.sleep(1.0)
        for number in range(first, first + moves):
            how = ("gateway", "address")[number % 2]
            rule = "NET-002" if how == "gateway" else "NET-001"
            count = collector.latest_report(device_id)[0]
            moved = time.time()
            move(ns, how, onto_internal=True)
            shown = until(lambda r=rule: collector.rules(device_id)[r] == "fail", 60, rule)
            total, received, body = collector.latest_report(device_id)
            assert total > count, "the rule changed without a new report"
            # Results reused from an earlier collection (collected_at before the report's)
            # took no time in this one.
            fresh = {n: p for n, p in body["probes"].items() if not reused(p, body)}
            durations = {n: p["duration_ms"] / 1000 for n, p in fresh.items()}
            sample = Sample(
                build=build,
                how=how,
                total=shown - moved,
                decided=decided_at(log, moved) - moved,
                stored=received.timestamp() - moved,
                shown=shown - moved,
                durations=durations,
                reused=tuple(sorted(set(body["probes"]) - set(fresh))),
            )
            samples.append(sample)
            progress(
                f"{build} run {number + 1} ({how}): shown after {sample.total:.2f} s "
                f"(decided {sample.decided:.2f}, stored {sample.stored:.2f}; "
                f"collect {sample.collect:.2f}; reused {', '.join(sample.reused) or 'none'})"
            )
            move(ns, how, onto_internal=False)
            until(lambda r=rule: collector.rules(device_id)[r] == "pass", 60, f"{rule} back")
            time.sleep(SETTLE_GAP_S)
    finally:
        stop(service)
    return samples


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def markdown(samples: list[Sample]) -> str:
    out = [
        "| build | move | runs | move -> shown: median (s) | p95 (s) | min (s) | max (s) "
        "| move -> decided (median s) | decided -> stored (median s) "
        "| of which collecting (median s) | stored -> shown (median s) | reports reusing |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    builds = list(dict.fromkeys(s.build for s in samples))
    for build, how in itertools.product(builds, ("gateway", "address", "all")):
        group = [s for s in samples if s.build == build and how in ("all", s.how)]
        if not group:
            continue
        totals = [s.total for s in group]
        out.append(
            f"| {build} | {how} | {len(group)} | {statistics.median(totals):.2f} "
            f"| {percentile(totals, 0.95):.2f} | {min(totals):.2f} | {max(totals):.2f} "
            f"| {statistics.median(s.decided for s in group):.2f} "
            f"| {statistics.median(s.stored - s.decided for s in group):.2f} "
            f"| {statistics.median(s.collect for s in group):.2f} "
            f"| {statistics.median(s.shown - s.stored for s in group):.2f} "
            f"| {sum(1 for s in group if s.reused)}/{len(group)} |"
        )
    out.append("")
    for build in builds:
        group = [s for s in samples if s.build == build]
        probes = list(dict.fromkeys(name for s in group for name in s.durations))
        medians = {n: statistics.median(s.durations[n] for s in group if n in s.durations)
                   for n in probes}  # fmt: skip
        slowest = sorted(medians.items(), key=lambda item: -item[1])
        reused = sorted({name for s in group for name in s.reused})
        out.append(
            f"Probes run by {build}, median seconds over the runs that ran them: "
            + ", ".join(f"{name} {seconds:.2f}" for name, seconds in slowest)
            + (f"; reused from the last collection: {', '.join(reused)}" if reused else "")
            + "."
        )
    return "\n".join(out)


def _terminate(signum: int, _: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwinds through every cleanup: namespace, processes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="moves onto the internal network")
    parser.add_argument(
        "--baseline",
        metavar="DIR",
        help="also the agent service of another source tree (agent/ in DIR), in alternating "
        "blocks (git archive COMMIT agent | tar -x -C DIR)",
    )
    parser.add_argument("--block", type=int, default=5, help="moves per block with --baseline")
    args = parser.parse_args()
    if os.geteuid() != 0:
        parser.error("network namespaces need root")
    signal.signal(signal.SIGTERM, _terminate)
    started, load_before = datetime.now(UTC), os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="outpost-netchange-") as folder:
        baseline = str(Path(args.baseline).resolve()) if args.baseline else None
        samples = measure(args.runs, Path(folder), baseline, args.block)
    load = os.getloadavg()
    print(
        f"`sudo .venv/bin/python bench/netchange.py {' '.join(sys.argv[1:])}` on "
        f"{started:%Y-%m-%d %H:%M} UTC: {psutil.cpu_count()} cores, Python "
        f"{sys.version.split()[0]}, load average (1 / 5 min) at the start {load_before[0]:.1f} / "
        f"{load_before[1]:.1f}, at the end {load[0]:.1f} / {load[1]:.1f}\n\n{markdown(samples)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
