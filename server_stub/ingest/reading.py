"""Reads a report as it arrived into a Submission: secret hashed, body decoded and checked.

A device's clock is judged later by a rule of the catalogue, never refused here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from agent.report import parse_timestamp
from server_stub.ingest.bodies import decompress, parse_json_object
from server_stub.ingest.outcomes import BodyError, FieldError, RefusalKind, Refused
from server_stub.ingest.schema import ReportValidator
from server_stub.security import token_hash

MAX_SCHEMA_ERRORS = 10


@dataclass(frozen=True)
class IncomingReport:
    """A report as it arrived: the bearer token, the body (maybe gzip) and where it came from."""

    secret: str | None
    body: bytes
    content_encoding: str | None
    source_ip: str
    # The device's clock when it sent the report (its HTTP Date), if it said: a spooled report
    # is old when it arrives, so only the sending time tells the device's clock apart.
    sent_at: datetime | None = None


@dataclass(frozen=True)
class Submission:
    """One report as read. A fault in the body is answered only once the secret is known to be
    good, so a caller without one learns nothing about its report."""

    secret_hash: str | None
    report: dict[str, Any] | None
    body_error: Refused | None
    source_ip: str
    sent_at: datetime | None = None


def secret_hash_of(incoming: IncomingReport) -> str | None:
    return token_hash(incoming.secret) if incoming.secret else None


def _json_path(parts: list[str | int]) -> str:
    """["probes", "network", "data"] -> "$.probes.network.data"; list indexes as [0]."""
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts)


class ReportReader:
    """Decompresses, parses and validates report bodies within a size limit."""

    def __init__(self, validator: ReportValidator, max_body_bytes: int) -> None:
        self.validator = validator
        self.max_body_bytes = max_body_bytes

    def read(self, incoming: IncomingReport) -> Submission:
        """A fault in the body is kept in the submission, for after authentication."""
        secret_hash = secret_hash_of(incoming)
        try:
            report = self._checked(incoming)
        except BodyError as exc:
            return Submission(
                secret_hash, None, exc.refused(), incoming.source_ip, incoming.sent_at
            )
        return Submission(secret_hash, report, None, incoming.source_ip, incoming.sent_at)

    def _checked(self, incoming: IncomingReport) -> dict[str, Any]:
        raw = decompress(incoming.body, incoming.content_encoding, self.max_body_bytes)
        report = parse_json_object(raw)
        if not self.validator.is_valid(report):
            errors = sorted(self.validator.iter_errors(report), key=lambda e: list(e.instance_path))
            listed = tuple(
                FieldError(_json_path(e.instance_path), str(e.message)[:300])
                for e in errors[:MAX_SCHEMA_ERRORS]
            )
            first = f"{listed[0].field}: {listed[0].problem}"
            message = f"report does not match schema version 1: {first}"
            raise BodyError(RefusalKind.SCHEMA, message, listed)
        # A malformed time is a malformed report; a time far from ours is a wrong clock, which
        # is a collector fact its rule judges, never a reason to lose its report.
        try:
            parse_timestamp(report["collected_at"])
        except ValueError as exc:
            message = f"$.collected_at: not a real time: {exc}"
            raise BodyError(RefusalKind.NOT_A_TIME, message) from exc
        return report
