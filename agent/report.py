"""The report contract, schema version 1: the envelope every probe result travels in.

This module is the bottom of the house: it imports nothing from `agent`, so the agent, the
collector and the schema generator can all stand on it.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

SCHEMA_VERSION = 1
UUID4 = "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"
UUID = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
RFC3339_UTC = "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?Z$"

ProbeStatus = Literal["ok", "error", "unsupported", "denied", "timeout"]

Gaps = dict[str, str]
"""Field name -> why that field is null. Unknown is a value, and it always says why."""


def fact(doc: str, pattern: str | None = None) -> Any:
    """A dataclass field carrying its catalogue description (kw_only models, no default) and,
    for strings with a fixed shape, the pattern the report schema enforces."""
    metadata = {"doc": doc} if pattern is None else {"doc": doc, "pattern": pattern}
    return field(metadata=metadata)


def optional_fact(doc: str, pattern: str | None = None) -> Any:
    """A field added after schema v1 was first shipped: older agents' reports lack it, so the
    schema lets it be absent; None when not given."""
    metadata = {"doc": doc, "optional": True}
    if pattern is not None:
        metadata["pattern"] = pattern
    return field(default=None, metadata=metadata)


def gaps_field() -> Any:
    """A probe's `gaps` map: empty unless some field could not be read."""
    return field(
        default_factory=dict,
        metadata={"doc": "Field name -> why it is null (command missing, access denied, ...)."},
    )


@dataclass(frozen=True, kw_only=True)
class AgentInfo:
    """The agent that made the report."""

    version: str = fact("Agent version.")
    dropped_reports: int = fact("Reports this agent dropped from a full spool, ever.")


@dataclass(frozen=True, kw_only=True)
class HostInfo:
    """The machine the report is about."""

    hostname: str = fact("Host name.")
    os: str | None = fact("OS id: debian, ubuntu, fedora, windows, macos...")
    os_version: str | None = fact("OS version.")
    os_build: str | None = fact("OS build.")
    kernel: str | None = fact("Kernel release.")
    arch: str | None = fact("CPU architecture.")
    boot_time: str | None = fact("Last boot (RFC 3339 UTC).")
    hardware_id_hash: str | None = fact("SHA-256 of the machine id, salted; never the raw id.")


@dataclass(frozen=True, kw_only=True)
class ErrorInfo:
    """Why a probe did not give data."""

    type: str = fact("Error class, e.g. ParseError, DeadlineExceeded.")
    message: str = fact("What went wrong, for a person.")


@dataclass(frozen=True, kw_only=True)
class ProbeResult:
    """One probe's outcome; data is null unless status is ok."""

    status: ProbeStatus = fact("ok, error, unsupported, denied or timeout.")
    duration_ms: int = fact("How long the probe ran.")
    data: dict[str, Any] | None = fact("The probe's facts (see the probe catalogue).")
    error: ErrorInfo | None = fact("Why there is no data.")
    collected_at: str | None = optional_fact(
        "When this probe ran (RFC 3339 UTC); earlier than the report's collected_at when the "
        "result is the last full collection's, reused for a report on a network change.",
        RFC3339_UTC,
    )


@dataclass(frozen=True, kw_only=True)
class Report:
    """One collection from one device."""

    schema_version: int = fact("Always 1 for this schema.")
    report_id: str = fact("UUID4 made by the agent; the collector deduplicates on it.", UUID4)
    device_id: str | None = fact("From enrolment; null before.", UUID)
    agent: AgentInfo = fact("The agent.")
    collected_at: str = fact("When collection started (RFC 3339 UTC).", RFC3339_UTC)
    host: HostInfo = fact("The machine.")
    probes: dict[str, ProbeResult] = fact("Probe name -> result.")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def new_report_id() -> str:
    return str(uuid.uuid4())


def rfc3339(timestamp: float) -> str:
    """Seconds since the epoch -> '2026-11-21T21:30:44Z'."""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_timestamp(text: str) -> datetime:
    """RFC 3339 -> an aware UTC datetime; ValueError for anything else, including times that
    exist only in another zone ("0001-01-01T00:30:00+01:00" lies before year 1 in UTC)."""
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
    except OverflowError as exc:
        raise ValueError(f"{text!r} is out of range") from exc
