"""The ingest's runner: a batch of reports read and stored in one transaction, faults contained.

A report whose handling fails is answered FAILED alone; a database that is down or locked makes
every report of the batch UNAVAILABLE."""

from __future__ import annotations

import logging

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from agent.policy import Evaluator
from server_stub.ingest.batch import ingest_batch
from server_stub.ingest.grace import Grace
from server_stub.ingest.outcomes import FAILED, UNAVAILABLE, Outcome
from server_stub.ingest.reading import IncomingReport, ReportReader, Submission, secret_hash_of
from server_stub.ingest.schema import ReportValidator
from server_stub.storage.clock import utcnow

log = logging.getLogger(__name__)


class ReportWriter:
    """Checks and stores batches of reports: the work function of the collector's GroupCommit."""

    def __init__(
        self,
        engine: Engine,
        validator: ReportValidator,
        evaluator: Evaluator,
        max_body_bytes: int,
        grace: Grace | None = None,
    ) -> None:
        self.engine = engine
        self.evaluator = evaluator
        self.grace = grace or {}  # the policy's grace periods (ingest.grace.grace_periods)
        self.reader = ReportReader(validator, max_body_bytes)

    def read(self, incoming: IncomingReport) -> Submission:
        """Decompress, parse and validate; a fault is kept for after authentication."""
        return self.reader.read(incoming)

    def store_batch(self, batch: list[IncomingReport]) -> list[Outcome]:
        """One transaction for the batch. This is the ingest's runner: a report whose data or
        whose handling fails is found by storing each report alone, so it never costs another
        report its answer; a database that is down or locked is answered UNAVAILABLE at once."""
        submissions = [self._read_or_fail(incoming) for incoming in batch]
        try:
            return self._store(submissions)
        except OperationalError as exc:
            if not _transient(exc):
                log.error("the database refused a batch of %d reports: %s", len(batch), exc)
                return [UNAVAILABLE] * len(submissions)
            log.warning("a batch of %d reports hit %s; storing each alone", len(batch), exc)
        except Exception:
            if len(submissions) == 1:
                log.exception("a report could not be stored")
                return [FAILED]
            # With the traceback: a fault that only a whole batch meets must not hide behind
            # the retries below succeeding one by one.
            log.warning(
                "a batch of %d reports failed; storing each alone", len(batch), exc_info=True
            )
        return [self._store_alone(submission) for submission in submissions]

    def _read_or_fail(self, incoming: IncomingReport) -> Submission:
        try:
            return self.read(incoming)
        except Exception:  # a fault of ours on this body: FAILED for it alone, after auth
            log.exception("a report body could not be read")
            return Submission(secret_hash_of(incoming), None, FAILED, incoming.source_ip)

    def _store_alone(self, submission: Submission) -> Outcome:
        try:
            [answer] = self._store([submission])
        except OperationalError as exc:
            log.error("a report could not be stored: %s", exc)
            return UNAVAILABLE
        except Exception:
            log.exception("a report could not be stored")
            return FAILED
        return answer

    def _store(self, submissions: list[Submission]) -> list[Outcome]:
        with self.engine.begin() as connection:
            return ingest_batch(connection, submissions, self.evaluator, utcnow(), self.grace)


def _transient(exc: OperationalError) -> bool:
    """A deadlock or serialisation failure (SQLSTATE class 40): the transaction can simply run
    again. Anything else operational (down, locked past the busy timeout) will not clear now."""
    return str(getattr(exc.orig, "sqlstate", "") or "").startswith("40")
