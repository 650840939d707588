"""Generates the report's JSON Schema from the report and probe dataclasses (run as a module)."""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from typing import Any

from agent.facts.probes import PROBES
from agent.report import SCHEMA_VERSION, ProbeResult, Report

# Bounds keep a hostile or broken agent from sending unbounded data the collector would store.
MAX_STRING = 4096
MAX_ITEMS = 2000


_SIMPLE: dict[Any, dict[str, Any]] = {
    str: {"type": "string", "maxLength": MAX_STRING},
    int: {"type": "integer"},
    bool: {"type": "boolean"},
    float: {"type": "number"},
}


def _type_schema(hint: Any) -> dict[str, Any]:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        options = [_type_schema(a) for a in args if a is not type(None)]
        schema = options[0] if len(options) == 1 else {"anyOf": options}
        if type(None) in args:
            return {"anyOf": [schema, {"type": "null"}]}
        return schema
    if origin is typing.Literal:
        return {"enum": list(args)}
    if origin is list:
        return {"type": "array", "maxItems": MAX_ITEMS, "items": _type_schema(args[0])}
    if origin is dict:
        if args[1] is Any:  # ProbeResult.data: the probe's own type, chosen by the probe key
            return {"type": "object"}
        return {
            "type": "object",
            "maxProperties": MAX_ITEMS,
            "additionalProperties": _type_schema(args[1]),
        }
    if dataclasses.is_dataclass(hint):
        return _dataclass_schema(typing.cast(type, hint))
    return dict(_SIMPLE[hint])


def _with_pattern(prop: dict[str, Any], pattern: str) -> dict[str, Any]:
    """Put the pattern on the string branch (also inside `X | None`)."""
    if prop.get("type") == "string":
        return {**prop, "pattern": pattern}
    if "anyOf" in prop:
        return {"anyOf": [_with_pattern(option, pattern) for option in prop["anyOf"]]}
    return prop  # e.g. {"type": "null"}


def _dataclass_schema(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    properties = {}
    for f in dataclasses.fields(cls):
        prop = _type_schema(hints[f.name])
        if "pattern" in f.metadata:
            prop = _with_pattern(prop, f.metadata["pattern"])
        if "doc" in f.metadata:
            prop = {"description": f.metadata["doc"], **prop}
        properties[f.name] = prop
    return {
        "type": "object",
        "description": (cls.__doc__ or "").strip(),
        "properties": properties,
        "required": [f.name for f in dataclasses.fields(cls) if not f.metadata.get("optional")],
        "additionalProperties": False,
    }


def _probe_result_schema(data_schema: dict[str, Any]) -> dict[str, Any]:
    schema = _dataclass_schema(ProbeResult)
    schema["properties"]["data"] = {"anyOf": [data_schema, {"type": "null"}]}
    return schema


def report_schema() -> dict[str, Any]:
    """JSON Schema (2020-12) of a schema-version-1 report, every probe's data included."""
    schema = _dataclass_schema(Report)
    schema["properties"]["schema_version"] = {"const": SCHEMA_VERSION}
    schema["properties"]["probes"] = {
        "type": "object",
        "properties": {
            p.name: _probe_result_schema(_dataclass_schema(p.data_type)) for p in PROBES
        },
        "required": [p.name for p in PROBES if not p.optional],
        "additionalProperties": False,
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://outpost.invalid/report.schema.json",
        "title": "Outpost report, schema version 1",
        **schema,
    }


def render() -> str:
    return json.dumps(report_schema(), indent=2, sort_keys=False) + "\n"


if __name__ == "__main__":
    print(render(), end="")
