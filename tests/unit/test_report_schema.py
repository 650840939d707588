"""The JSON Schema file matches the dataclasses, and real reports satisfy it."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from agent.facts.schema import render, report_schema

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "agent" / "report.schema.json"


def test_committed_schema_is_generated_from_the_dataclasses() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == render(), (
        "agent/report.schema.json is stale: "
        "run `python -m agent.facts.schema > agent/report.schema.json`"
    )


def test_a_real_report_from_this_machine_is_valid(linux_report: dict[str, Any]) -> None:
    jsonschema.Draft202012Validator(report_schema()).validate(linux_report)
    assert linux_report["schema_version"] == 1
    assert set(linux_report["probes"]) == {
        "patch_level",
        "applications",
        "network",
        "isolation",
        "accounts",
        "device_security",
        "credentials",
        "data_labels",
    }


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda r: r.update(schema_version=2), "schema_version"),
        (lambda r: r["probes"]["network"]["data"].update(bogus=1), "bogus"),
        (lambda r: r["host"].update(hostname="x" * 5000), "hostname"),
        (lambda r: r["probes"].pop("accounts"), "accounts"),
        (lambda r: r["probes"]["network"].update(status="fine"), "status"),
    ],
)
def test_schema_rejects_malformed_reports(
    linux_report: dict[str, Any], change: Any, where: str
) -> None:
    broken = copy.deepcopy(linux_report)
    change(broken)
    errors = list(jsonschema.Draft202012Validator(report_schema()).iter_errors(broken))
    assert errors, f"schema accepted a report with a bad {where}"
    assert any(where in json.dumps(list(e.path)) + e.message for e in errors)
