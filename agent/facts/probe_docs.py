"""The probe catalogue in Markdown: every probe, every field, its type and meaning."""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any

from agent.facts.probes.base import Probe


def _type_name(hint: Any) -> str:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        names = [_type_name(a) for a in args if a is not type(None)]
        return " \\| ".join(names) + (" \\| null" if type(None) in args else "")
    if origin is typing.Literal:
        return "enum(" + ", ".join(map(str, args)) + ")"
    if origin is list:
        return f"list[{_type_name(args[0])}]"
    if origin is dict:
        return f"map[{_type_name(args[1])}]"
    if dataclasses.is_dataclass(hint):
        return "object"
    return {str: "string", int: "integer", bool: "boolean", float: "number"}.get(hint, str(hint))


def _element(hint: Any) -> Any:
    """The dataclass inside `X | None`, `list[X]` or `list[X] | None`, if any."""
    for arg in (hint, *typing.get_args(hint)):
        if dataclasses.is_dataclass(arg):
            return arg
        for inner in typing.get_args(arg):
            if dataclasses.is_dataclass(inner):
                return inner
    return None


def _rows(cls: type, prefix: str) -> list[str]:
    hints = typing.get_type_hints(cls)
    rows = []
    for f in dataclasses.fields(cls):
        name = f"{prefix}{f.name}"
        rows.append(f"| `{name}` | {_type_name(hints[f.name])} | {f.metadata.get('doc', '')} |")
        inner = _element(hints[f.name])
        if inner is not None:
            marker = "[]." if "list" in _type_name(hints[f.name]) else "."
            rows += _rows(inner, f"{name}{marker}")
    return rows


def render_markdown(probes: tuple[Probe, ...]) -> str:
    lines: list[str] = []
    for probe in probes:
        lines += [f"### `{probe.name}`", "", probe.summary, ""]
        lines += ["| field | type | meaning |", "| --- | --- | --- |"]
        lines += _rows(probe.data_type, "")
        lines.append("")
    return "\n".join(lines)
