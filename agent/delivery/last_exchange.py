"""What the agent remembers of its last exchanges, for `agent status` and the self-check."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

from agent.state_dir import LAST_EXCHANGE, write_private

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LastExchange:
    """The last success and the last error talking to the collector."""

    last_success_at: str | None = None
    last_error: str | None = None
    last_error_at: str | None = None
    last_error_status: int | None = None


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
