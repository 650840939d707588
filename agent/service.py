"""`agent run`: scheduled reports with jitter, an immediate report on network change, signals."""

from __future__ import annotations

import logging
import random
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType

from agent.config import AgentConfig
from agent.context import Context
from agent.enrol import collector_for, load_enrolment
from agent.netwatch import Watcher, fingerprint, make_watcher
from agent.send import flush, send_once, spool_for

log = logging.getLogger(__name__)
SETTLE_S = 2.0  # let DHCP and DNS finish before looking at a changed network
RETRY_MIN_S = 15.0


@dataclass
class Schedule:
    """When the next scheduled report and the next spool retry are due (monotonic seconds)."""

    interval_s: float
    jitter_s: float
    next_report: float = 0.0
    next_retry: float = float("inf")
    retry_delay: float = RETRY_MIN_S

    def report_sent(self, now: float) -> None:
        self.next_report = now + self.interval_s + random.uniform(0, self.jitter_s)

    def flush_failed(self, now: float) -> None:
        self.next_retry = now + self.retry_delay + random.uniform(0, self.retry_delay / 2)
        self.retry_delay = min(self.retry_delay * 2, self.interval_s)

    def flush_succeeded(self) -> None:
        self.next_retry, self.retry_delay = float("inf"), RETRY_MIN_S


class Service:
    """The background agent. One report at a time, in the main thread; never dies of a fault."""

    def __init__(
        self,
        config: AgentConfig,
        context: Callable[[], Context],
        interval_s: float,
        watcher: Watcher | None = None,
    ) -> None:
        self.config = config
        self.context = context
        self.watcher = watcher or make_watcher(context().os_name)
        self.schedule = Schedule(interval_s=interval_s, jitter_s=min(interval_s / 10, 60.0))
        self.stop = threading.Event()

    def _report(self, reason: str) -> None:
        log.info("collecting a report (%s)", reason)
        report_id, result = send_once(self.context(), self.config)
        now = time.monotonic()
        if result.error is None:
            log.info("report %s accepted (%d sent)", report_id, result.sent)
            self.schedule.flush_succeeded()
        else:
            log.warning("report %s spooled: %s", report_id, result.error)
            self.schedule.flush_failed(now)

    def _retry(self) -> None:
        enrolment = load_enrolment(self.config.state_dir)
        spool = spool_for(self.config)
        result = flush(spool, collector_for(enrolment), self.config, time.time())
        if result.error is None:
            self.schedule.flush_succeeded()
        else:
            self.schedule.flush_failed(time.monotonic())

    def tick(self, fingerprint_before: str) -> str:
        """One wake-up: report if the network changed or a report is due, else retry the spool."""
        current = fingerprint(self.context())
        now = time.monotonic()
        try:
            if current != fingerprint_before:
                self._report("network change")
                self.schedule.report_sent(now)
            elif now >= self.schedule.next_report:
                self._report("schedule")
                self.schedule.report_sent(now)
            elif now >= self.schedule.next_retry:
                self._retry()
        except Exception:
            log.exception("report cycle failed; the service carries on")
            self.schedule.flush_failed(now)
        return current

    def run(self) -> int:
        for number in (signal.SIGTERM, signal.SIGINT):
            signal.signal(number, self._on_signal)
        log.info("agent service started (report every %.0f s)", self.schedule.interval_s)
        # First report soon after start, spread so a fleet booting together does not stampede.
        self.schedule.next_report = time.monotonic() + random.uniform(
            0, min(30.0, self.schedule.jitter_s)
        )
        last = fingerprint(self.context())
        while not self.stop.is_set():
            due = min(self.schedule.next_report, self.schedule.next_retry) - time.monotonic()
            changed = self.watcher.wait(max(0.0, min(due, self.watcher.check_every_s)))
            if self.stop.is_set():
                break
            if changed:
                self.stop.wait(SETTLE_S)
            last = self.tick(last)
        self.watcher.close()
        log.info("agent service stopped")
        return 0

    def _on_signal(self, number: int, _frame: FrameType | None) -> None:
        log.info("signal %d: stopping after the report in hand", number)
        self.stop.set()
