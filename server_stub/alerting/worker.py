"""The delivery worker: a thread of its own that fans alerts out, sends the due deliveries
with exponential backoff, and once a minute writes the approval alerts the clock brings."""

from __future__ import annotations

import logging
import ssl
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import requests
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from server_stub.alerting import messages
from server_stub.alerting.destinations import Destination, Destinations
from server_stub.alerting.senders import TIMEOUT_S, SendError, post_webhook, send_mail
from server_stub.ingest.alerts import approval_alerts
from server_stub.storage.clock import utcnow
from server_stub.storage.outbox import (
    LEASE,
    Attempt,
    Claimed,
    claim_due,
    fan_out,
    finish,
    release,
)

log = logging.getLogger(__name__)
# urllib3 logs each request line at DEBUG: a webhook's path and query, often its secret.
logging.getLogger("urllib3.connectionpool").setLevel(logging.INFO)
BATCH = 50  # deliveries claimed at a time; those the lease leaves no time for go back
SENDERS = 4  # destinations sent to at once, each by its own thread
APPROVAL_EVERY = timedelta(minutes=1)
BACKOFF_CAP = timedelta(hours=1)
DATABASE_WAIT_S = 5.0  # after the database failed a pass (down, locked)


@dataclass(frozen=True)
class WorkerSettings:
    """What the worker needs, passed in (built from the collector's Settings by create_app)."""

    destinations: Destinations
    dashboard_url: str
    poll_s: float = 0.5
    retry_base_s: float = 2.0
    max_attempts: int = 12
    timeout_s: float = TIMEOUT_S
    lease_s: float = LEASE.total_seconds()  # a claim's hold: more than two time-outs
    tls_context: ssl.SSLContext | None = None  # for SMTP; None: the system's trust store


def backoff(attempts: int, base_s: float) -> timedelta:
    """The wait after the n-th failed attempt: base, 2 base, 4 base ... at most an hour."""
    return min(timedelta(seconds=base_s * 2 ** (attempts - 1)), BACKOFF_CAP)


class AlertWorker:
    """Delivers the outbox; each collector process runs one, and they share the rows safely."""

    def __init__(
        self, engine: Engine, settings: WorkerSettings, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.clock = clock
        self.by_id = settings.destinations.by_id()
        self.stop = threading.Event()
        self._local = threading.local()  # a requests.Session per sending thread
        self._senders = ThreadPoolExecutor(SENDERS, thread_name_prefix="alert-send")
        self._approvals_at: datetime | None = None
        self._thread: threading.Thread | None = None

    def run_once(self) -> int:
        """One look at the outbox; returns the deliveries attempted."""
        now = self.clock()
        if self._approvals_at is None or now - self._approvals_at >= APPROVAL_EVERY:
            approval_alerts(self.engine, now.date(), now)
            self._approvals_at = now
        fan_out(self.engine, self.settings.destinations.for_alert)
        lease = timedelta(seconds=self.settings.lease_s)
        claimed = claim_due(self.engine, list(self.by_id), now, BATCH, lease)
        if not claimed:
            return 0
        # A send must start early enough to end before the lease does, or another worker may
        # send it too. Destinations in parallel; each one's alerts in order, one at a time
        # (measured: parallel sends to one receiver were slower, bench/alert_throughput.py).
        last_start = now + lease - timedelta(seconds=2 * self.settings.timeout_s)
        queues: dict[str, list[Claimed]] = {}
        for delivery in claimed:
            queues.setdefault(delivery.destination, []).append(delivery)
        tasks = [self._senders.submit(self._send_all, q, last_start) for q in queues.values()]
        attempts = [attempt for task in tasks for attempt in task.result()]
        tried = {a.delivery.id for a in attempts}
        untried = [d for d in claimed if d.id not in tried]
        if untried:
            release(self.engine, untried, self.clock())
        recorded = finish(self.engine, attempts, self.clock())
        for attempt in attempts:
            self._log(attempt, attempt.delivery.id in recorded)
        return len(attempts)

    def _send_all(self, queue: list[Claimed], last_start: datetime) -> list[Attempt]:
        """One destination's deliveries in order, until the stop or the lease's last start."""
        attempts = []
        for delivery in queue:
            if self.stop.is_set() or self.clock() > last_start:
                break
            attempts.append(self._attempt(delivery))
        return attempts

    def _attempt(self, delivery: Claimed) -> Attempt:
        destination = self.by_id[delivery.destination]
        message = messages.alert_json(delivery.payload, delivery.uid, self.settings.dashboard_url)
        error: str | None = None
        try:
            self._send(destination, message, delivery.uid)
        except SendError as exc:
            error = str(exc)
        now = self.clock()
        retry_at = None
        if error is not None and delivery.attempts < self.settings.max_attempts:
            retry_at = now + backoff(delivery.attempts, self.settings.retry_base_s)
        return Attempt(delivery, error, retry_at)

    def _log(self, attempt: Attempt, mine: bool) -> None:
        delivery = attempt.delivery
        label = self.by_id[delivery.destination].label
        if not mine:
            log.warning("alerts: delivery %d to %s outlived its lease", delivery.id, label)
        elif attempt.error is not None:
            when = (
                f"retry at {attempt.retry_at:%H:%M:%S}" if attempt.retry_at else "failed for good"
            )
            log.warning(
                "alerts: delivery %d to %s, attempt %d: %s; %s",
                delivery.id, label, delivery.attempts, attempt.error, when,
            )  # fmt: skip

    def _send(self, destination: Destination, message: dict[str, Any], key: str) -> None:
        timeout = self.settings.timeout_s
        if destination.style == "email":
            server = self.settings.destinations.mail
            assert server is not None, "e-mail destinations come with a mail server"
            mail = messages.email(message, server.sender, destination.target)
            send_mail(server, mail, timeout, self.settings.tls_context)
            return
        body = message
        if destination.style == "slack":
            body = messages.slack_body(message)
        elif destination.style == "teams":
            body = messages.teams_body(message)
        http = getattr(self._local, "http", None)
        if http is None:
            http = self._local.http = requests.Session()
        post_webhook(http, destination.target, body, key, timeout)

    def _loop(self) -> None:
        while not self.stop.is_set():
            try:
                busy = self.run_once()
            except DBAPIError as exc:  # the database away or locked: say so once a while, wait
                first = str(exc.orig).strip().splitlines()[:1] or [type(exc.orig).__name__]
                log.warning("alerts: the outbox cannot be reached (%s); again in %g s",
                            first[0], DATABASE_WAIT_S)  # fmt: skip
                self.stop.wait(DATABASE_WAIT_S)
                continue
            except Exception:  # this loop is the worker's runner: log, wait, look again
                log.exception("alerts: the delivery worker's pass failed; it will run again")
                busy = 0
            if not busy:
                self.stop.wait(self.settings.poll_s)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="alert-delivery", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop after the delivery in hand (at most one send's time-out)."""
        self.stop.set()
        if self._thread is not None:
            self._thread.join(self.settings.timeout_s * 2 + 5)
        self._senders.shutdown(wait=True)
