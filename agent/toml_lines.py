"""Finds the line of a key in TOML text, so that configuration errors can point at it."""

from __future__ import annotations

import re


def line_of(text: str, table: str, key: str | None) -> int | None:
    """1-based line of `key = ...` inside `[table]`, or of the `[table]` header when key is None."""
    current = ""
    for number, line in enumerate(text.splitlines(), start=1):
        header = re.match(r"^\s*\[\s*([^\]]+?)\s*\]", line)
        if header:
            current = header[1].replace('"', "")
            if key is None and current == table:
                return number
            continue
        if current == table and key and re.match(rf"^\s*\"?{re.escape(key)}\"?\s*=", line):
            return number
    return None


def located(source: str, text: str, table: str, key: str | None, problem: str) -> str:
    """'agent.toml, line 4: [agent] server: must be a URL'."""
    line = line_of(text, table, key)
    where = f"{source}, line {line}" if line else source
    name = f"[{table}] {key}" if key else f"[{table}]"
    return f"{where}: {name}: {problem}"
