"""The kill soak: real agents report while their collector is SIGKILLed and restarted; counts.

Shared by tests/system/test_kill_soak.py (bounded, in every run) and bench/soak.py (the long
form). Every id an agent made is read from what `agent send` printed ("report <id> accepted" on
stdout, "report <id> is spooled" on stderr); after the soak each agent's spool is flushed with
`agent send --flush-only` until empty and the ids are compared with the collector's database.
"""

from __future__ import annotations

import random
import re
import subprocess
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import bindparam, text

from tests.system.conftest import AGENT, Collector, EnrolledDevice, clean_env

MADE = re.compile(r"report ([0-9a-f-]{36}) (?:accepted|is spooled)")
WAIT_ASKED = re.compile(r"asked to wait until|asked not to be sent anything before")
SEND_TIMEOUT_S = 180.0  # an agent send waits at most 60 s for Retry-After, plus its retries
FLUSH_ROUNDS = 40


@dataclass
class SoakResult:
    """What one soak did and found; `lost`, `duplicated`, `unknown` and `failures` must be 0."""

    backend: str
    agents: int
    kills: int = 0
    sends: int = 0
    made: set[str] = field(default_factory=set)
    stored: int = 0
    lost: set[str] = field(default_factory=set)
    duplicated: int = 0
    unknown: set[str] = field(default_factory=set)  # stored but never made by these agents
    counter_mismatch: list[str] = field(default_factory=list)  # devices.reports_received off
    rejected: int = 0  # reports the collector refused for good (spool/rejected/)
    failures: list[str] = field(default_factory=list)  # sends that neither sent nor spooled
    seconds: float = 0.0

    @property
    def clean(self) -> bool:
        return not (
            self.lost
            or self.duplicated
            or self.unknown
            or self.counter_mismatch
            or self.rejected
            or self.failures
        )

    def summary(self) -> str:
        return (
            f"{self.backend}: agents {self.agents}, kills {self.kills}, sends {self.sends}, "
            f"reports made {len(self.made)}, stored {self.stored}, lost {len(self.lost)}, "
            f"duplicated {self.duplicated}, unknown {len(self.unknown)}, "
            f"rejected {self.rejected}, failed sends {len(self.failures)}, "
            f"counter mismatches {len(self.counter_mismatch)}, {self.seconds:.0f} s"
        )


def agent(state_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [AGENT, "--state-dir", str(state_dir), *args],
        capture_output=True,
        text=True,
        timeout=SEND_TIMEOUT_S,
        env=clean_env(),
        check=False,
    )


def spooled(state_dir: Path) -> list[Path]:
    return sorted((state_dir / "spool").glob("*.json"))


def enrol_agents(collector: Collector, root: Path, count: int) -> list[EnrolledDevice]:
    """Register and enrol `count` real agents, each in its own state directory."""
    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(lambda n: collector.enrol(root / f"agent-{n:03d}"), range(count)))


class Killer(threading.Thread):
    """SIGKILLs the collector every `every_s` (random in the range), restarts it `down_s` later."""

    def __init__(
        self,
        collector: Collector,
        every_s: tuple[float, float],
        down_s: tuple[float, float],
        rng: random.Random,
    ) -> None:
        super().__init__(daemon=True)
        self.collector = collector
        self.every_s = every_s
        self.down_s = down_s
        self.rng = rng
        self.kills = 0
        self.error: BaseException | None = None
        self.finish = threading.Event()

    def run(self) -> None:
        try:
            while not self.finish.wait(self.rng.uniform(*self.every_s)):
                process = self.collector.process
                assert process is not None and process.poll() is None, "the collector died"
                self.collector.stop(grace_s=0)  # SIGKILL: no shutdown, no flush, no goodbye
                self.kills += 1
                time.sleep(self.rng.uniform(*self.down_s))
                self.collector.start()
        except BaseException as exc:  # noqa: BLE001 pytest.fail's Failed too; re-raised by the soak
            self.error = exc


def run_soak(
    collector: Collector,
    root: Path,
    *,
    agents: int,
    reports_per_agent: int | None = None,
    duration_s: float | None = None,
    every_s: tuple[float, float] = (2.0, 5.0),
    down_s: tuple[float, float] = (0.0, 2.0),
    concurrency: int = 6,
    min_kills: int = 0,
    seed: int | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> SoakResult:
    """Agents send (each agent one send at a time, at most `concurrency` at once) until each has
    made `reports_per_agent` reports and the collector was killed `min_kills` times, or until
    `duration_s` has passed, while the collector is killed and restarted; then every spool is
    flushed and the database compared."""
    assert (reports_per_agent is None) != (duration_s is None), "give one of the two bounds"
    rng = random.Random(seed)
    started = time.monotonic()
    result = SoakResult(collector.backend, agents)
    devices = enrol_agents(collector, root, agents)
    progress(f"{collector.backend}: {agents} agents enrolled")
    lock = threading.Lock()
    slots = threading.Semaphore(concurrency)
    deadline = None if duration_s is None else time.monotonic() + duration_s
    killer = Killer(collector, every_s, down_s, rng)

    def more(made: int) -> bool:
        if deadline is not None:
            return time.monotonic() < deadline
        assert reports_per_agent is not None
        # A fast machine must not finish before the killer has had its turns.
        return made < reports_per_agent or killer.kills < min_kills

    def keep_sending(device: EnrolledDevice) -> None:
        made = 0
        while more(made):
            with slots:
                if not more(made):  # the deadline passed while this agent waited for a slot
                    break
                done = agent(device.state_dir, "send")
            ids = MADE.findall(done.stdout + done.stderr)
            with lock:
                result.sends += 1
                result.made.update(ids)
                if done.returncode != 0 or len(ids) != 1:
                    result.failures.append(
                        f"{device.name}: exit {done.returncode}: {done.stdout}{done.stderr}"
                    )
            made += 1

    killer.start()
    try:
        with ThreadPoolExecutor(agents) as pool:
            list(pool.map(keep_sending, devices))
    finally:
        killer.finish.set()
        killer.join()
    if killer.error is not None:
        raise killer.error
    result.kills = killer.kills
    progress(f"{collector.backend}: {result.sends} sends, {killer.kills} kills; flushing")
    if collector.process is None or collector.process.poll() is not None:
        collector.start()
    for device in devices:
        flush_until_empty(device, result)
    compare(collector, devices, result)
    result.seconds = time.monotonic() - started
    return result


def flush_until_empty(device: EnrolledDevice, result: SoakResult) -> None:
    """`agent send --flush-only` until the spool is empty, waiting when asked to."""
    for _ in range(FLUSH_ROUNDS):
        if not spooled(device.state_dir):
            break
        done = agent(device.state_dir, "send", "--flush-only")
        if WAIT_ASKED.search(done.stderr):
            time.sleep(2)  # a 503's Retry-After during the soak; the agent keeps it in status
        elif done.returncode != 0:
            time.sleep(0.5)
    left = spooled(device.state_dir)
    if left:
        result.failures.append(f"{device.name}: {len(left)} report(s) still spooled")
    result.rejected += len(list((device.state_dir / "spool" / "rejected").glob("*.json")))


def compare(collector: Collector, devices: list[EnrolledDevice], result: SoakResult) -> None:
    ids = [d.device_id for d in devices]
    select_ids = text("SELECT id FROM reports WHERE device_id IN :ids").bindparams(
        bindparam("ids", expanding=True)
    )
    counters = text("SELECT id, reports_received FROM devices WHERE id IN :ids").bindparams(
        bindparam("ids", expanding=True)
    )
    per_device = text(
        "SELECT device_id, count(*) FROM reports WHERE device_id IN :ids GROUP BY device_id"
    ).bindparams(bindparam("ids", expanding=True))
    with collector.engine.connect() as conn:
        stored = [str(row[0]) for row in conn.execute(select_ids, {"ids": ids})]
        received = {str(r[0]): int(r[1]) for r in conn.execute(counters, {"ids": ids})}
        rows = {str(r[0]): int(r[1]) for r in conn.execute(per_device, {"ids": ids})}
    result.stored = len(set(stored))
    result.duplicated = len(stored) - len(set(stored))
    result.lost = result.made - set(stored)
    result.unknown = set(stored) - result.made
    result.counter_mismatch = [
        f"{device_id}: reports_received {count}, stored {rows.get(device_id, 0)}"
        for device_id, count in received.items()
        if count != rows.get(device_id, 0)
    ]
