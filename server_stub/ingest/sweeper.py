"""Time-driven work, each minute in a thread of its own: states, retention, the day's counts.

A device goes stale when it stops reporting, unapproved when its approval expires, non-compliant
when a failure outlasts its grace period or its exception expires; reports past
the retention period are deleted; the fleet's counts by state are kept for the day (the trend
chart). Each collector process sweeps, a bounded batch per short transaction; the updates and
deletes are idempotent."""

from __future__ import annotations

import asyncio
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from server_stub.ingest.alerts import sweep_alerts
from server_stub.ingest.evaluation import rule_for_state
from server_stub.ingest.grace import Grace
from server_stub.ingest.rejudge import sweep_rules
from server_stub.storage.clock import utcnow
from server_stub.storage.fleet_days import record_day
from server_stub.storage.retention import purge
from server_stub.storage.sweep_writes import STALE, UNAPPROVED, Sweep, next_batch, sweep_batch

log = logging.getLogger(__name__)
# Devices per transaction: each batch holds its locks (SQLite: the database's write lock) for a
# few milliseconds, so reports and other writers get in between batches.
BATCH = 1000


def sweep(
    engine: Engine,
    stale_after: timedelta,
    now: datetime,
    batch: int = BATCH,
    stop: threading.Event | None = None,
    grace: Grace | None = None,
) -> int:
    """Mark expired approvals unapproved and silent devices stale, each with the catalogue rule
    that names that state failed; returns the devices changed. Batches go in id order; each is
    locked in id order, as ingest locks devices, and written in its own transaction.

    The rules are not run through the Evaluator here: their evidence would read otherwise
    ("approval expires 2020-01-01", "..., 30 hours ago (at most 24)"), and a policy that turns
    the stale rule off would stop devices from ever going stale.

    grace: the policy's grace periods (grace.grace_periods); a rule without one that is still
    "due" (the policy shortened it) fails now."""
    pass_ = Sweep(today=now.date(), seen_before=now - stale_after, now=now)
    rules = {state: rule_for_state(state) for state in (UNAPPROVED, STALE)}
    changed, after = 0, ""
    while stop is None or not stop.is_set():
        with engine.connect() as connection:
            upto = next_batch(connection, pass_, after, batch)
        if upto is None:
            break
        with engine.begin() as connection:
            changed += sweep_batch(connection, after, upto, pass_, rules)
            sweep_alerts(connection, after, upto, now)  # alerts: in the same transaction
        after = upto
    if stop is None or not stop.is_set():
        with engine.begin() as connection:  # grace periods and exceptions that ran out
            sweep_rules(connection, grace or {}, now)
    return changed


class Sweeper:
    """The collector's sweeper: one pass a minute (interval_s) in a thread of its own."""

    def __init__(
        self,
        engine: Engine,
        stale_after: timedelta,
        interval_s: float = 60.0,
        report_retention_days: int = 0,
        grace: Grace | None = None,
    ) -> None:
        self.engine = engine
        self.stale_after = stale_after
        self.interval_s = interval_s
        self.report_retention_days = report_retention_days
        self.grace = grace or {}
        self.stop = threading.Event()
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="sweeper")

    def run_once(self) -> int:
        now = utcnow()
        changed = sweep(self.engine, self.stale_after, now, stop=self.stop, grace=self.grace)
        if not self.stop.is_set():
            purged = purge(self.engine, now, self.report_retention_days)
            if purged.reports or purged.sessions or purged.tokens:
                log.info(
                    "retention: deleted %d report(s) older than %d days, %d expired session(s), "
                    "%d spent enrolment token(s)",
                    purged.reports, self.report_retention_days, purged.sessions, purged.tokens,
                )  # fmt: skip
            record_day(self.engine, now.date())
        return changed

    async def run_forever(self) -> None:
        loop = asyncio.get_running_loop()
        while not self.stop.is_set():
            try:
                changed = await loop.run_in_executor(self._executor, self.run_once)
            except DBAPIError as exc:  # the database away or a lock conflict: next minute again
                log.warning("sweeper: this pass failed and will be retried: %s", exc)
            else:
                if changed:
                    log.info("sweeper: %d device(s) changed state", changed)
            await asyncio.sleep(self.interval_s)

    def close(self) -> None:
        """Stop after the batch in hand, and wait for it (at most one short transaction)."""
        self.stop.set()
        self._executor.shutdown(wait=True)
