"""Fact paths: `probes.network.data.interfaces[*].addresses[*].address` over a report dict."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any


# Item, Selection, Inputs and Outcome are built ~100 times per evaluation: slots and not
# frozen construct twice as fast (frozen dataclasses set each field through object.__setattr__).
@dataclass(slots=True)
class Item:
    """A selected value and what it belongs to (the names of the list elements on its way)."""

    value: Any
    label: str
    # The last list element walked to reach the value (a finding, an account): what a check's
    # `except_on` field is read from.
    element: Any = None


@dataclass(slots=True)
class Selection:
    """The values a path reached, and why any part of it could not be reached."""

    items: list[Item] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)


@functools.lru_cache(maxsize=1024)  # the paths are the rules' own: a few dozen, each used often
def segments_of(path: str) -> tuple[tuple[str, bool], ...]:
    return tuple((part.removesuffix("[*]"), part.endswith("[*]")) for part in path.split("."))


def _why_null(parent: dict[str, Any], key: str, path: str) -> str | None:
    """A null that means "unknown" gets its reason; a null that means "absent" gets None."""
    if key == "data" and "status" in parent:
        error = parent.get("error") or {}
        message = error.get("message", "no data") if isinstance(error, dict) else "no data"
        return f"probe {parent['status']}: {message}"
    gaps = parent.get("gaps")
    if isinstance(gaps, dict):
        # A top-level field of a probe's data: null there is always "could not read".
        return f"{key.replace('_', ' ')} could not be read: {gaps.get(key, 'not reported')}"
    return None


def select(facts: dict[str, Any], path: str) -> Selection:
    """Walk the path; nulls become unknowns (with the probe's reason) or absences."""
    unknown: list[str] = []
    # A value, its label so far and the last list element on its way.
    nodes: list[tuple[Any, str, Any]] = [(facts, "", None)]
    for key, iterate in segments_of(path):
        next_nodes: list[tuple[Any, str, Any]] = []
        for node, trail, owner in nodes:
            if not isinstance(node, dict) or key not in node:
                unknown.append(f"{path}: not in the report")
                continue
            value = node[key]
            if value is None:
                reason = _why_null(node, key, path)
                if reason is not None:
                    unknown.append(reason)
                continue
            if not iterate:
                next_nodes.append((value, trail, owner))
                continue
            if not isinstance(value, list):
                unknown.append(f"{path}: {key} is not a list")
                continue
            for element in value:
                name = element.get("name") if isinstance(element, dict) else None
                label = (f"{trail} {name}" if trail else str(name)) if name else trail
                next_nodes.append((element, label, element))
        nodes = next_nodes
    # Positional arguments: this runs ~40 times per evaluation.
    return Selection([Item(v, t, e) for v, t, e in nodes if v is not None], unknown)
