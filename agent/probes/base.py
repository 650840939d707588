"""What every probe shares: its description, field docs, and how a sub-fact records a gap."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from agent.context import Context, FactUnavailable

T = TypeVar("T")

Gaps = dict[str, str]
"""Field name -> why that field is null. Unknown is a value, and it always says why."""


def fact(doc: str, pattern: str | None = None) -> Any:
    """A dataclass field carrying its catalogue description (kw_only models, no default) and,
    for strings with a fixed shape, the pattern the report schema enforces."""
    metadata = {"doc": doc} if pattern is None else {"doc": doc, "pattern": pattern}
    return field(metadata=metadata)


def gaps_field() -> Any:
    return field(
        default_factory=dict,
        metadata={"doc": "Field name -> why it is null (command missing, access denied, ...)."},
    )


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
