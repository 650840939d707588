"""The enrolment record in the state directory: which device this is and where it reports."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from agent.state_dir import ENROLMENT, write_private


class NotEnrolled(Exception):
    """No enrolment record in the state directory."""


@dataclass(frozen=True)
class Enrolment:
    """What enrolment left in the state directory (the secret itself is elsewhere)."""

    device_id: str
    server: str
    ca_file: str | None
    secret_store: str


def load_enrolment(state_dir: Path) -> Enrolment:
    path = state_dir / ENROLMENT
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise NotEnrolled(f"not enrolled (no {path})") from exc
    except (OSError, ValueError) as exc:
        raise NotEnrolled(f"the enrolment record {path} is unreadable: {exc}") from exc
    return Enrolment(**raw)


def save_enrolment(state_dir: Path, enrolment: Enrolment) -> None:
    write_private(state_dir / ENROLMENT, json.dumps(asdict(enrolment), indent=2))
