"""`agent run`: scheduled reports with jitter, an immediate report on network change, signals.

The service itself stays small: it watches the network and keeps time. Each report is made by
a fresh `agent send` child process, so the libraries a report needs (requests, the probes'
parsers) and whatever a report allocates leave memory when it is done, and a fault in one
report cannot take the service down. On a network change the child starts at the first event
and waits for `go` while the network settles, and takes the slow probes that do not depend on
the network from the last collection (agent/delivery/probe_cache.py).
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from logging.handlers import RotatingFileHandler
from pathlib import Path
from types import FrameType

from agent.config import AgentConfig
from agent.delivery.enrolment import NotEnrolled, load_enrolment
from agent.delivery.last_exchange import load_exchange, retry_wait_s
from agent.delivery.policy_cache import choose_policy
from agent.delivery.spool import Spool
from agent.facts.context import Context
from agent.service.netwatch import Watcher, fingerprint, make_watcher
from agent.state_dir import LOGS, SPOOL

log = logging.getLogger(__name__)
# After a network event the service reports once the events have stopped for QUIET_S (a move
# is a burst of link, address and route messages), and looks again SETTLE_S after the first
# event: DHCP may write the DNS servers after the address, and a change of resolv.conf sends no
# event. Measured in docs/benchmarks.md ("Network change -> collector").
QUIET_S = 0.3
SETTLE_S = 2.0
RETRY_MIN_S = 15.0
CHILD_TIMEOUT_S = 300.0


@dataclass
class Schedule:
    """When the next scheduled report and the next spool retry are due (monotonic seconds)."""

    interval_s: float
    jitter_s: float
    next_report: float = 0.0
    next_retry: float = float("inf")
    next_check: float = float("inf")  # a second look after a network change
    retry_delay: float = RETRY_MIN_S

    def report_sent(self, now: float) -> None:
        self.next_report = now + self.interval_s + random.uniform(0, self.jitter_s)

    def flush_failed(self, now: float, asked_s: float = 0.0) -> None:
        """Back off; never sooner than the collector asked (asked_s: its Retry-After, left)."""
        backoff = self.retry_delay + random.uniform(0, self.retry_delay / 2)
        self.next_retry = now + max(backoff, asked_s)
        self.retry_delay = min(self.retry_delay * 2, self.interval_s)

    def flush_succeeded(self) -> None:
        self.next_retry, self.retry_delay = float("inf"), RETRY_MIN_S


def agent_command() -> list[str]:
    """How to start this agent again: the frozen binary itself, or this Python with the CLI."""
    if getattr(sys, "frozen", False):
        return [sys.executable]
    # -P: `-m` would put the working directory first on the path, and a folder named `agent`
    # there (a state directory, a checkout) would be imported in place of the agent.
    return [sys.executable, "-P", "-m", "agent.cli"]


class Service:
    """The background agent: one report at a time, each in a child process."""

    def __init__(
        self,
        global_args: list[str],
        interval_s: float,
        pending: Callable[[], int],
        watcher: Watcher | None = None,
        asked_wait: Callable[[], float] = lambda: 0.0,
    ) -> None:
        self.global_args = global_args
        self.context = Context()
        self.watcher = watcher or make_watcher(self.context.os_name)
        self.schedule = Schedule(interval_s=interval_s, jitter_s=min(interval_s / 10, 60.0))
        self.pending = pending
        self.asked_wait = asked_wait  # seconds the collector asked to be left alone, still
        self.stop = threading.Event()

    def _start(self, *command: str, after_go: bool = False) -> subprocess.Popen[str]:
        """Start an `agent send` child; with after_go it prepares, then waits for `go`."""
        argv = [*agent_command(), *self.global_args, *command]
        # Its own session: a Ctrl-C in the terminal stops the service, which lets the report
        # in hand finish instead of killing it half-way.
        return subprocess.Popen(
            [*argv, "--after-go"] if after_go else argv,
            stdin=subprocess.PIPE if after_go else subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
        )  # fmt: skip

    def _finish(self, child: subprocess.Popen[str], go: bool = True) -> None:
        """Let a child report (go) or tell it there is nothing to report; wait for it."""
        try:
            out, err = child.communicate("go\n" if go else "", timeout=CHILD_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
            raise
        finally:
            if child.stdin is not None and not child.stdin.closed:
                child.stdin.close()
        for line in (out + err).splitlines():
            log.log(logging.INFO if child.returncode == 0 else logging.ERROR, "%s", line)
        if not go:
            return
        if self.pending() > 0:
            self.schedule.flush_failed(time.monotonic(), self.asked_wait())
        else:
            self.schedule.flush_succeeded()

    def _child(self, *command: str) -> None:
        self._finish(self._start(*command))

    def _network_command(self) -> tuple[str, ...]:
        """A report on a network change: the slow probes that do not depend on the network
        come from the last collection if it is younger than the report interval."""
        return ("send", "--reuse-within", f"{self.schedule.interval_s:.0f}")

    def start_early(self, fingerprint_before: str) -> subprocess.Popen[str] | None:
        """At the first event of a change already visible, start the report's child while the
        network settles: Python's start and the agent's imports (~0.25 s) overlap the quiet
        wait. An event that changed nothing the fingerprint sees starts nothing."""
        if fingerprint(self.context) == fingerprint_before:
            return None
        try:
            return self._start(*self._network_command(), after_go=True)
        except OSError as exc:  # the agent binary vanished (an upgrade): tick() tries again
            log.error("cannot start the report early (%s): starting it when due", exc)
            return None

    def tick(self, fingerprint_before: str, early: subprocess.Popen[str] | None = None) -> str:
        """One wake-up: report if the network changed or a report is due, else retry the spool.

        `early`: a child started at the network event, waiting for go; it reports the change
        or, when the network settled back to where it was, is told there is nothing to report.
        """
        current = fingerprint(self.context)
        now = time.monotonic()
        try:
            if current != fingerprint_before:
                log.info("network changed: reporting now")
                child, early = early or self._start(*self._network_command()), None
                self._finish(child)
                # Not counted as the scheduled report: it may carry the slow probes' results of
                # the last one, which the next scheduled report must replace on time.
            elif now >= self.schedule.next_report:
                self._child("send")
                self.schedule.report_sent(now)
            elif now >= self.schedule.next_retry:
                self._child("send", "--flush-only")
        except (OSError, subprocess.TimeoutExpired) as exc:
            # The agent binary vanished (an upgrade) or a report hung: log, try again later.
            log.error("report cycle failed (%s: %s); retrying later", type(exc).__name__, exc)
            self.schedule.flush_failed(now)
        finally:
            if early is not None:
                self._cancel(early)
        return current

    def _cancel(self, early: subprocess.Popen[str]) -> None:
        """Tell a child started early that there is nothing to report, and let it end."""
        log.info("the network settled back: nothing to report")
        try:
            self._finish(early, go=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            log.error("a report started early did not end (%s: %s)", type(exc).__name__, exc)

    def run(self) -> int:
        for number in (signal.SIGTERM, signal.SIGINT):
            signal.signal(number, self._on_signal)
        log.info("agent service started (report every %.0f s)", self.schedule.interval_s)
        # First report soon after start, spread so a fleet booting together does not stampede.
        first_in = random.uniform(0, min(30.0, self.schedule.jitter_s))
        self.schedule.next_report = time.monotonic() + first_in
        last = fingerprint(self.context)
        while not self.stop.is_set():
            schedule = self.schedule
            due = min(schedule.next_report, schedule.next_retry, schedule.next_check)
            wait = due - time.monotonic()
            changed = self.watcher.wait(max(0.0, min(wait, self.watcher.check_every_s)))
            if self.stop.is_set():
                break
            early = None
            if changed:
                first_event = time.monotonic()
                early = self.start_early(last)
                self.settle(first_event)
                schedule.next_check = first_event + SETTLE_S
            elif time.monotonic() >= schedule.next_check:
                schedule.next_check = float("inf")  # this wake-up is the second look
            last = self.tick(last, early)
        self.watcher.close()
        log.info("agent service stopped")
        return 0

    def settle(self, first_event: float) -> None:
        """Wait until the network has been quiet for QUIET_S, at most SETTLE_S in all."""
        deadline = first_event + SETTLE_S
        while not self.stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0 or not self.watcher.wait(min(QUIET_S, left)):
                return

    def _on_signal(self, number: int, _frame: FrameType | None) -> None:
        log.info("signal %d: stopping after the report in hand", number)
        self.stop.set()
        self.watcher.wake()


def _service_logging(config: AgentConfig, log_file: str | None) -> None:
    """Under systemd, stderr goes to the journal; elsewhere a rotated file in the state dir."""
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    if log_file is None and os.environ.get("JOURNAL_STREAM"):
        return  # basicConfig's stderr handler already feeds the journal
    path = Path(log_file) if log_file else config.state_dir / LOGS / "agent.log"
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    handler = RotatingFileHandler(path, maxBytes=1024 * 1024, backupCount=3, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)


def run_service(args: argparse.Namespace, config: AgentConfig) -> int:
    try:
        load_enrolment(config.state_dir)
    except NotEnrolled as exc:
        print(f"agent: {exc}: enrol first with agent enroll", file=sys.stderr)
        return 1
    _service_logging(config, args.log_file)
    interval = args.interval or choose_policy(args.policy, config).interval_minutes * 60.0
    global_args = ["--state-dir", str(config.state_dir)]
    if args.config:
        global_args += ["--config", args.config]
    if args.policy:
        global_args += ["--policy", args.policy]
    spool = Spool(config.state_dir / SPOOL)

    def asked_wait() -> float:
        return retry_wait_s(load_exchange(config.state_dir), time.time())

    return Service(
        global_args, interval_s=interval, pending=lambda: spool.depth, asked_wait=asked_wait
    ).run()
