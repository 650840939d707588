"""schemathesis against a running collector (SQLite and PostgreSQL): every operation of its
OpenAPI description with generated input, and accepted reports generated for an enrolled device
(its real secret and device id), a bounded number of examples each; never a 5xx."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error

from tests.system.conftest import Collector, EnrolledDevice

pytestmark = pytest.mark.system

AGENT_PATHS = ("/api/v1/reports", "/api/v1/policy")
EXAMPLES = 20
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,  # the same examples every run
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@dataclass(frozen=True)
class Target:
    collector: Collector
    device: EnrolledDevice
    schema: Any
    report: dict[str, Any]


@pytest.fixture(scope="module")
def target(
    collector: Collector, tmp_path_factory: pytest.TempPathFactory, report_template: dict[str, Any]
) -> Iterator[Target]:
    root = tmp_path_factory.mktemp(f"schemathesis-{collector.backend}")
    device = collector.enrol(Path(root) / "agent")
    schema = schemathesis.openapi.from_url(collector.url + "/api/v1/openapi.json")
    report = {**copy.deepcopy(report_template), "device_id": device.device_id}
    yield Target(collector, device, schema, report)


def operations(target: Target) -> list[tuple[str, str]]:
    paths = target.schema.raw_schema["paths"]
    return [(method.upper(), path) for path, item in paths.items() for method in item]


def fuzz(target: Target, method: str, path: str) -> None:
    secret = target.device.secret if path in AGENT_PATHS else target.collector.admin_token
    headers = {"Authorization": f"Bearer {secret}"}

    @given(case=target.schema[path][method].as_strategy())
    @SETTINGS
    def check(case: Any) -> None:
        case.call_and_validate(headers=headers, checks=[not_a_server_error])

    check()


def test_every_operation_answers_generated_input_without_a_5xx(target: Target) -> None:
    done = []
    for method, path in operations(target):
        fuzz(target, method, path)
        done.append((method, path))
    assert ("POST", "/api/v1/reports") in done and ("POST", "/api/v1/enroll") in done


TEXT = st.text(max_size=80)  # any code point: NUL, controls, non-BMP


@st.composite
def reports(draw: st.DrawFn, template: dict[str, Any]) -> dict[str, Any]:
    """Valid reports of one device: the template with generated values where it allows any."""
    report = copy.deepcopy(template)
    report["report_id"] = str(uuid.uuid4())
    ago = draw(st.integers(min_value=0, max_value=30 * 24 * 3600))
    collected = datetime.now(UTC) - timedelta(seconds=ago)
    report["collected_at"] = collected.strftime("%Y-%m-%dT%H:%M:%SZ")
    report["host"]["hostname"] = draw(TEXT.filter(bool))
    report["host"]["os_build"] = draw(st.none() | TEXT)
    report["host"]["kernel"] = draw(st.none() | TEXT)
    report["agent"]["dropped_reports"] = draw(st.integers(min_value=0, max_value=2**31))
    return report


def test_generated_valid_reports_are_accepted(target: Target) -> None:
    operation = target.schema["/api/v1/reports"]["POST"]
    headers = {"Authorization": f"Bearer {target.device.secret}"}
    answers: list[int] = []

    @given(report=reports(target.report))
    @SETTINGS
    def check(report: dict[str, Any]) -> None:
        case = operation.Case(body=report, media_type="application/json")
        response = case.call(headers=headers)
        answers.append(response.status_code)
        assert response.status_code == 200, response.text[:300]
        assert response.json()["accepted"] is True

    check()
    assert len(answers) == EXAMPLES
