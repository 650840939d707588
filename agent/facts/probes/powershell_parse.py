"""Reading what PowerShell scripts print: JSON, its `Part { }` sections and typed fields."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from agent.facts.context import AccessDenied, FactUnavailable, ParseError
from agent.facts.probes.base import first_line

_MS_DATE = re.compile(r"^/Date\((-?\d+)(?:[+-]\d{4})?\)/$")
# What ConvertTo-Json prints for objects nested deeper than -Depth: a type name, not the data.
_TYPE_NAME = re.compile(r"^System\.[\w.]+(\[\])?$")


def parse_json(text: str, what: str) -> Any:
    """Decode a script's JSON output.

    Sample: {"Version":"10.0.22631","BuildNumber":"22631","UBR":4317}
    """
    stripped = text.strip().lstrip("\ufeff")
    if not stripped:
        raise ParseError(f"{what} printed nothing (expected JSON)")
    try:
        return json.loads(stripped)
    except ValueError as exc:
        raise ParseError(
            f"{what} printed something that is not JSON: {first_line(stripped, 60)!r}"
        ) from exc


def part(doc: Any, key: str) -> Any:
    """The value of one `Part { }` section of a script's output, or why there is none.

    Sample: {"reboot":{"ok":true,"value":{"CBS":false}},"bitlocker":{"ok":false,"denied":true,
    "error":"Access denied"}}
    """
    if not isinstance(doc, dict):
        raise ParseError(f"expected a JSON object with a {key!r} section")
    section = doc.get(key)
    if not isinstance(section, dict) or not isinstance(section.get("ok"), bool):
        raise ParseError(f"the {key!r} section is missing or has no 'ok' flag")
    if section["ok"]:
        return section.get("value")
    message = first_line(str(section.get("error") or "")) or "failed"
    if section.get("denied") is True:
        raise AccessDenied(f"{key}: access denied: {message}")
    raise FactUnavailable(f"{key}: {message}")


def ps_list(value: Any, what: str) -> list[Any]:
    """A JSON value that should be a list: PowerShell 5.1 collapses [] to null and [x] to x."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    _reject_type_name(value, what)
    if isinstance(value, dict | str | int | float) and not isinstance(value, bool):
        return [value]
    raise ParseError(f"{what}: expected a list, got {type(value).__name__}")


def list_field(record: dict[str, Any], key: str) -> list[Any]:
    """A list field that must be present (null is PowerShell's empty list, absence is an error)."""
    if key not in record:
        raise ParseError(f"the output has no {key!r} list")
    return ps_list(record[key], key)


def obj(value: Any, what: str) -> dict[str, Any]:
    """A JSON value that must be an object."""
    _reject_type_name(value, what)
    if not isinstance(value, dict):
        raise ParseError(f"{what}: expected an object, got {type(value).__name__}")
    return value


def _reject_type_name(value: Any, what: str) -> None:
    if isinstance(value, str) and _TYPE_NAME.match(value):
        raise ParseError(f"{what}: PowerShell printed the type name {value} instead of the data")


def opt_str(record: dict[str, Any], key: str) -> str | None:
    """A string field; null and empty give None, numbers are turned into text."""
    value = record.get(key)
    if value is None:
        return None
    if isinstance(value, int | float | str) and not isinstance(value, bool):
        text = str(value).strip()
        return text or None
    raise ParseError(f"{key}: expected text, got {type(value).__name__}")


def opt_int(record: dict[str, Any], key: str) -> int | None:
    """An integer field (also from digit strings such as REG_SZ "600"); null gives None."""
    value = record.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ParseError(f"{key}: expected a number, got a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        return int(value)
    raise ParseError(f"{key}: expected a number, got {value!r}"[:120])


def opt_bool(record: dict[str, Any], key: str) -> bool | None:
    """A boolean field; null gives None. 0/1 are accepted (registry DWORDs)."""
    value = record.get(key)
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise ParseError(f"{key}: expected true/false, got {value!r}"[:120])


def ps_date(value: Any) -> str | None:
    """A date as PowerShell printed it -> RFC 3339 UTC ('2024-06-12T07:01:13Z').

    Accepts .ToString('o') output ('2024-06-12T07:01:13.0000000Z', with an offset, or without a
    zone, which is taken as UTC) and the PS 5.1 default '/Date(1718092800000)/'.
    """
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ParseError(f"expected a date string, got {value!r}"[:120])
    text = value.strip()
    match = _MS_DATE.match(text.replace("\\/", "/"))
    try:
        if match:
            moment = datetime.fromtimestamp(int(match.group(1)) / 1000, UTC)
        else:
            moment = datetime.fromisoformat(text)
    except (ValueError, OverflowError, OSError) as exc:
        raise ParseError(f"not a date: {text!r}"[:120]) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if moment.year < 1971:  # COM's "no date" (1899-12-30, 1601-01-01) means never
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
