"""From request bodies to stored reports: bodies checked first, then one transaction a batch."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from fastapi import HTTPException
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from agent.policy import Evaluator
from agent.report import parse_timestamp
from server_stub.bodies import decompress, parse_json_object
from server_stub.security import token_hash
from server_stub.state import ReportValidator
from server_stub.storage.clock import utcnow
from server_stub.storage.ingest import Accepted, Refusal, Submission, ingest_batch

log = logging.getLogger(__name__)
MAX_SCHEMA_ERRORS = 10
CLOCK_SKEW = timedelta(minutes=10)  # laptops' clocks drift; a report from later is refused
FAILED = Refusal(500, "the report could not be stored")
UNAVAILABLE = Refusal(503, "the database is unavailable; send again later", {"Retry-After": "30"})


@dataclass(frozen=True)
class IncomingReport:
    """A report as it arrived: the bearer token, the body (maybe gzip) and where it came from."""

    secret: str | None
    body: bytes
    content_encoding: str | None
    source_ip: str


def _json_path(parts: list[str | int]) -> str:
    """["probes", "network", "data"] -> "$.probes.network.data"; list indexes as [0]."""
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts)


class ReportWriter:
    """Checks and stores batches of reports: the work function of the collector's GroupCommit."""

    def __init__(
        self, engine: Engine, validator: ReportValidator, evaluator: Evaluator, max_body_bytes: int
    ) -> None:
        self.engine = engine
        self.validator = validator
        self.evaluator = evaluator
        self.max_body_bytes = max_body_bytes

    def read(self, incoming: IncomingReport) -> Submission:
        """Decompress, parse and validate; a fault is kept for after authentication."""
        secret_hash = token_hash(incoming.secret) if incoming.secret else None
        try:
            report = self._checked(incoming)
        except HTTPException as exc:
            refusal = Refusal(exc.status_code, exc.detail, exc.headers)
            return Submission(secret_hash, None, refusal, incoming.source_ip)
        return Submission(secret_hash, report, None, incoming.source_ip)

    def _checked(self, incoming: IncomingReport) -> dict[str, Any]:
        raw = decompress(incoming.body, incoming.content_encoding, self.max_body_bytes)
        report = parse_json_object(raw)
        if not self.validator.is_valid(report):
            errors = sorted(self.validator.iter_errors(report), key=lambda e: list(e.instance_path))
            listed = [
                {"field": _json_path(e.instance_path), "problem": str(e.message)[:300]}
                for e in errors[:MAX_SCHEMA_ERRORS]
            ]
            first = f"{listed[0]['field']}: {listed[0]['problem']}"
            message = f"report does not match schema version 1: {first}"
            raise HTTPException(422, {"message": message, "errors": listed})
        try:
            collected = parse_timestamp(report["collected_at"])
        except ValueError as exc:
            raise HTTPException(422, f"$.collected_at: not a real time: {exc}") from exc
        if collected > utcnow() + CLOCK_SKEW:
            message = "$.collected_at lies in the future: the device's clock is wrong"
            raise HTTPException(422, message)
        return report

    def store_batch(self, batch: list[IncomingReport]) -> list[Accepted | Refusal]:
        """One transaction for the batch. This is the ingest's runner: a report whose data or
        whose handling fails is found by storing each report alone, so it never costs another
        report its answer; a database that is down or locked is answered 503 at once."""
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
        except Exception:  # a fault of ours on this body: a 500 for it alone, after auth
            log.exception("a report body could not be read")
            secret_hash = token_hash(incoming.secret) if incoming.secret else None
            return Submission(secret_hash, None, FAILED, incoming.source_ip)

    def _store_alone(self, submission: Submission) -> Accepted | Refusal:
        try:
            [answer] = self._store([submission])
        except OperationalError as exc:
            log.error("a report could not be stored: %s", exc)
            return UNAVAILABLE
        except Exception:
            log.exception("a report could not be stored")
            return FAILED
        return answer

    def _store(self, submissions: list[Submission]) -> list[Accepted | Refusal]:
        with self.engine.begin() as connection:
            return ingest_batch(connection, submissions, self.evaluator, utcnow())


def _transient(exc: OperationalError) -> bool:
    """A deadlock or serialisation failure (SQLSTATE class 40): the transaction can simply run
    again. Anything else operational (down, locked past the busy timeout) will not clear now."""
    return str(getattr(exc.orig, "sqlstate", "") or "").startswith("40")
