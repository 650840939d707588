"""Jinja2 filters that turn facts and timestamps into plain text (autoescape does the rest)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

from jinja2 import Undefined
from markupsafe import Markup, escape

from server_stub.storage.clock import iso

LABELS = {
    "non_compliant": "non-compliant",
    "not_applicable": "not applicable",
    "pass": "pass",
    "fail": "FAIL",
    "due": "FAIL, in grace",
    "excepted": "excepted",
}
NOTHING = "—"


def show(value: Any) -> str:
    """Any fact as text: null is a dash, booleans yes/no, lists joined, maps as key: value."""
    if value is None or isinstance(value, Undefined):
        return NOTHING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return iso(value) or NOTHING
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return "; ".join(f"{k}: {show(v)}" for k, v in value.items()) or "none"
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(show(v) for v in value) or "none"
    return str(value)


def yesno(value: Any) -> str:
    """A boolean fact, where null means the agent could not tell."""
    if value is True:
        return "yes"
    if value is False:
        return "no"
    return "unknown"


def when(value: datetime | str | None) -> str:
    if isinstance(value, datetime):
        return iso(value) or "never"
    return value or "never"


def label(value: str | None) -> str:
    """A state or status as words (shown as text, never by colour alone)."""
    if not value:
        return "none"
    return LABELS.get(value, value.replace("_", " "))


def css(value: str | None) -> str:
    """A CSS class suffix for a state or status: letters, digits and dashes only."""
    return "".join(c if c.isalnum() else "-" for c in (value or "none"))


def remedy(text: str | None) -> Markup:
    """A remedy's text, escaped, with its `commands` set as code (never shown as backticks)."""
    # Every part is escaped before it is marked safe.
    parts = str(escape(text or "")).split("`")
    if len(parts) % 2 == 0:  # an unpaired backtick: leave the text as written
        return Markup("`".join(parts))
    return Markup("".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts)))


OS_NAMES = {"windows": "Windows", "macos": "macOS", "linux": "Linux"}


def os_name(family: str) -> str:
    return OS_NAMES.get(family, family)


FILTERS: dict[str, Callable[..., str]] = {
    "remedy": remedy,
    "os_name": os_name,
    "show": show,
    "yesno": yesno,
    "when": when,
    "label": label,
    "css": css,
}
