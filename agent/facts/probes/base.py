"""What every probe shares: its description and how a sub-fact records a gap."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from agent.facts.context import Context, FactUnavailable
from agent.report import Gaps

T = TypeVar("T")


def attempt(gaps: Gaps, field_name: str, read: Callable[[], T]) -> T | None:
    """Read one fact; when it cannot be read, record the reason under its field and give None."""
    try:
        return read()
    except FactUnavailable as exc:
        gaps[field_name] = str(exc) or type(exc).__name__
        return None


@dataclass(frozen=True)
class Probe:
    """One fact family: its name (report key), what it tells, its data type and time budget."""

    name: str
    summary: str
    data_type: type[Any]
    collect: Callable[[Context], Any]
    timeout_s: float
