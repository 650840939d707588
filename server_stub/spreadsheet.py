"""Cells for CSV exports that a spreadsheet opens as text, never runs as a formula."""

from __future__ import annotations


def safe_cell(value: object) -> str:
    text = "" if value is None else str(value)
    # A leading =, +, - or @ makes spreadsheets run the cell as a formula.
    # Also behind a tab or carriage return, which spreadsheets skip (OWASP CSV injection).
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
