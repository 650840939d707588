"""What the agent remembers of its last exchanges, for `agent status` and the self-check."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

from agent.report import parse_timestamp
from agent.state_dir import LAST_EXCHANGE, write_private

log = logging.getLogger(__name__)
# However long a collector asks to be left alone, the agent tries again within the hour: a
# collector that misstates Retry-After must not silence a fleet for days.
RETRY_AFTER_MAX_S = 3600.0


@dataclass(frozen=True)
class LastExchange:
    """The last success and the last error talking to the collector, and until when the
    collector asked not to be sent anything (its Retry-After, as an RFC 3339 time)."""

    last_success_at: str | None = None
    last_error: str | None = None
    last_error_at: str | None = None
    last_error_status: int | None = None
    retry_not_before: str | None = None
    # The collector's verdict on the last report it accepted (its state for this device, with
    # its own rules: the egress address, the approval, the clock), and when it was given.
    collector_state: str | None = None
    collector_failing: list[str] | None = None
    collector_state_at: str | None = None
    # Failing rules the collector does not count (yet): rule id -> {"status": "due" (within
    # its grace period) or "excepted", "until", and "by" (who granted the exception)}.
    collector_notes: dict[str, dict[str, str]] | None = None

    def verdict_text(self) -> str | None:
        """The collector's verdict in words ("non-compliant; failing NET-008, SEC-002; PATCH-001
        failing, due by 2026-12-08T10:00:00Z"), None before it has given one."""
        if self.collector_state is None:
            return None
        failing = self.collector_failing or []
        rules = f"; failing {', '.join(failing)}" if failing else ""
        notes = "".join(f"; {rule_id} {note_text(note)}" for rule_id, note in self.notes().items())
        return f"{self.collector_state.replace('_', '-')}{rules}{notes}"

    def notes(self) -> dict[str, dict[str, str]]:
        return self.collector_notes or {}


def note_text(note: dict[str, str]) -> str:
    """{"status": "due", "until": T} -> "failing, due by T"; an exception names who and until."""
    if note.get("status") == "excepted":
        return f"excepted by {note.get('by', '?')} until {note.get('until', '?')}"
    return f"failing, due by {note.get('until', '?')}"


def load_exchange(state_dir: Path) -> LastExchange:
    try:
        return LastExchange(**json.loads((state_dir / LAST_EXCHANGE).read_text()))
    except FileNotFoundError:
        return LastExchange()
    except (ValueError, TypeError, OSError) as exc:
        log.warning("status file unreadable (%s): starting afresh", exc)
        return LastExchange()


def save_exchange(state_dir: Path, exchange: LastExchange) -> None:
    write_private(state_dir / LAST_EXCHANGE, json.dumps(asdict(exchange)).encode())


def retry_wait_s(exchange: LastExchange, now: float) -> float:
    """Seconds until the collector may be sent to again (0: now).

    A wait longer than RETRY_AFTER_MAX_S was never recorded, so it means the clock was set
    back since: the agent does not wait on a clock it cannot trust.
    """
    if exchange.retry_not_before is None:
        return 0.0
    try:
        wait = parse_timestamp(exchange.retry_not_before).timestamp() - now
    except ValueError as exc:
        log.warning("status file: retry_not_before unreadable (%s): not waiting", exc)
        return 0.0
    return wait if 0.0 < wait <= RETRY_AFTER_MAX_S else 0.0
