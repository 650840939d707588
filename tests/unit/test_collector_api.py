"""The collector's HTTP API in-process (create_app + TestClient on a temporary SQLite): the
OpenAPI contract fuzzed with schemathesis, /metrics, /healthz, the CSV export, pagination,
filters and who may read what. Real processes add nothing here; tests/system/ has those."""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import positive_data_acceptance

from server_stub.api import fast_path
from server_stub.api.fast_path import ReportsFastPath
from server_stub.api.fleet import CSV_COLUMNS
from server_stub.app import create_app
from server_stub.cli import build_parser
from server_stub.commands import _environment_for
from server_stub.config import Settings, settings_from
from server_stub.spreadsheet import safe_cell
from server_stub.state import CollectorState
from server_stub.storage.admins import create_api_token
from server_stub.storage.devices import RegisterError, register_device

AGENT_PATHS = ("/api/v1/reports", "/api/v1/policy")
HARDWARE = "ab" * 32  # the machine every test device enrols from


@dataclass
class Api:
    app: FastAPI
    client: TestClient
    admin_token: str
    device_id: str
    device_secret: str

    @property
    def state(self) -> CollectorState:
        state: CollectorState = self.app.state.collector
        return state

    @property
    def admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_token}"}

    @property
    def device(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.device_secret}"}

    def register(self, name: str | None = None, **values: str) -> tuple[str, str]:
        """(device id, enrolment token) of a newly registered device."""
        fields = {
            "owner": "Ada Lovelace",
            "department": "Computer Science",
            "approved_by": "Head of CS",
            "justification": "outreach",
            **values,
        }
        with self.state.sessions.begin() as session:
            registration = register_device(
                session,
                name=name or f"laptop-{uuid.uuid4().hex[:8]}",
                expires=date(2099, 12, 31),
                token_ttl_days=7,
                actor="tests",
                **fields,
            )
        return registration.device_id, registration.enrolment_token

    def enrol(self, token: str) -> str:
        body = {"token": token, "hostname": "laptop", "hardware_id_hash": HARDWARE}
        response = self.client.post("/api/v1/enroll", json=body)
        assert response.status_code == 200, response.text
        secret: str = response.json()["device_secret"]
        return secret


def make_api(folder: Path, report_fast_path: bool = True, **settings: Any) -> Iterator[Api]:
    settings_ = Settings(
        data_dir=folder,
        database_url=f"sqlite:///{folder / 'collector.db'}",
        report_fast_path=report_fast_path,
        **settings,
    )
    app = create_app(settings_, run_sweeper=False)
    with TestClient(app) as client:
        api = Api(app, client, "", "", "")
        with api.state.sessions.begin() as session:
            api.admin_token = create_api_token(session, "tests", "tests")
        api.device_id, token = api.register("fuzzed-laptop")
        api.device_secret = api.enrol(token)
        yield api


@pytest.fixture(scope="module")
def shared_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    yield from make_api(tmp_path_factory.mktemp("collector"))


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    """A fresh collector: counters and the device list start empty."""
    yield from make_api(tmp_path)


# schemathesis: every documented route against its OpenAPI description ---------------------


# The operations are listed here, not discovered at import time: schemathesis' lazy
# from_fixture() does not work with pytest 9 (it reads Function._nodeid), and a module-level
# from_asgi() would build a collector while pytest collects. test_every_operation_is_fuzzed
# keeps the list complete.
OPERATIONS = [
    ("POST", "/api/v1/enroll"),
    ("POST", "/api/v1/reports"),
    ("GET", "/api/v1/policy"),
    ("GET", "/api/v1/devices"),
    ("GET", "/api/v1/devices/{device_id}"),
    ("GET", "/api/v1/devices/{device_id}/history"),
    ("GET", "/api/v1/compliance.csv"),
    ("GET", "/healthz"),
    ("GET", "/metrics"),
]


@pytest.fixture(scope="module")
def openapi(shared_api: Api) -> Any:
    return schemathesis.openapi.from_asgi("/api/v1/openapi.json", shared_api.app)


def test_every_operation_is_fuzzed(openapi: Any) -> None:
    documented = {
        (method.upper(), path)
        for path, item in openapi.raw_schema["paths"].items()
        for method in item
    }
    assert documented == set(OPERATIONS)


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_api_matches_its_openapi_description(
    openapi: Any, shared_api: Api, method: str, path: str
) -> None:
    """Agent routes get the device secret, the rest the admin token; schemathesis adds its own
    broken credentials to check that auth is enforced."""
    headers = shared_api.device if path in AGENT_PATHS else shared_api.admin
    operation = openapi[path][method]
    # A report that fits its documented body ({"type": "object"}) is still refused with 422:
    # see test_the_report_body_is_documented. Every other check runs.
    excluded = [positive_data_acceptance] if path == "/api/v1/reports" else []

    @given(case=operation.as_strategy())
    @settings(
        max_examples=25,
        deadline=None,
        database=None,
        derandomize=True,  # the same examples every run: CI must not pass or fail by chance
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    def check(case: Any) -> None:
        case.call_and_validate(headers=headers, excluded_checks=excluded)

    check()


def test_the_report_body_is_documented(openapi: Any) -> None:
    body = openapi.raw_schema["paths"]["/api/v1/reports"]["post"]["requestBody"]
    described = body["content"]["application/json"]["schema"]
    text = json.dumps(described)
    assert "report_id" in text or "$ref" in text, described


# /healthz and /metrics ---------------------------------------------------------------------

SAMPLE = re.compile(
    r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-z_]+="[^"\\\n]*"(,[a-z_]+="[^"]*")*\})? (\S+)$'
)


def test_healthz(api: Api) -> None:
    response = api.client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_metrics_are_prometheus_text(api: Api, report: dict[str, Any]) -> None:
    report["device_id"] = api.device_id
    assert api.client.post("/api/v1/reports", json=report, headers=api.device).status_code == 200
    assert api.client.post("/api/v1/reports", json=report, headers=api.device).status_code == 200
    assert api.client.post("/api/v1/reports", content=b"[", headers=api.device).status_code == 400

    response = api.client.get("/metrics")  # no credentials: scraped like any exporter
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    assert response.text.endswith("\n")
    declared: dict[str, str] = {}
    helped: set[str] = set()
    samples: dict[str, float] = {}
    for line in response.text.splitlines():
        if line.startswith("# HELP "):
            helped.add(line.split()[2])
        elif line.startswith("# TYPE "):
            _, _, name, kind = line.split()
            assert kind in ("counter", "gauge"), line
            declared[name] = kind
        else:
            match = SAMPLE.match(line)
            assert match, f"not a Prometheus sample: {line!r}"
            assert match.group(1) in declared, f"{line!r} before its # TYPE"
            samples[match.group(1) + (match.group(2) or "")] = float(match.group(4))
    assert helped == set(declared)
    assert samples['outpost_reports_total{outcome="accepted"}'] == 1
    assert samples['outpost_reports_total{outcome="duplicate"}'] == 1
    assert samples['outpost_reports_total{outcome="rejected"}'] == 1
    # Sent one at a time: three batches of one ("[" too: a body's fault is answered only after
    # the secret has been checked in the database).
    assert samples["outpost_ingest_batches_total"] == 3
    assert samples["outpost_ingest_batched_reports_total"] == 3
    states = {k for k in samples if k.startswith("outpost_devices{")}
    assert len(states) == 7
    assert sum(samples[k] for k in states) == 1  # the one enrolled device


@pytest.fixture
def report(linux_report: dict[str, Any]) -> dict[str, Any]:
    """This machine's report (tests/conftest.py) with a fresh report id."""
    host = {**linux_report["host"], "hardware_id_hash": HARDWARE}
    return {**linux_report, "report_id": str(uuid.uuid4()), "host": host}


# the CSV export ----------------------------------------------------------------------------


def csv_rows(api: Api) -> list[dict[str, str]]:
    response = api.client.get("/api/v1/compliance.csv", headers=api.admin)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == 'attachment; filename="compliance.csv"'
    reader = csv.reader(io.StringIO(response.text))
    header = next(reader)
    assert header == CSV_COLUMNS
    return [dict(zip(header, row, strict=True)) for row in reader]


def test_csv_export_defuses_formulas(api: Api) -> None:
    api.register("=HYPERLINK(1)", owner="=cmd", department="+SUM(A1)", approved_by="@boss")
    api.register("-laptop", owner="plain owner", department="a=b")
    rows = {row["owner"]: row for row in csv_rows(api)}
    risky = rows["'=cmd"]
    assert risky["name"] == "'=HYPERLINK(1)"
    assert risky["department"] == "'+SUM(A1)"
    assert risky["approved_by"] == "'@boss"
    assert risky["state"] == "awaiting_enrolment" and risky["approval_expires"] == "2099-12-31"
    plain = rows["plain owner"]
    assert plain["name"] == "'-laptop"
    assert plain["department"] == "a=b"  # only a leading character makes a formula


@pytest.mark.parametrize("lead", ["\t", "\r"], ids=["tab", "cr"])
def test_csv_export_defuses_formulas_behind_whitespace(api: Api, lead: str) -> None:
    # Registration refuses control characters, so the guard is defence in depth: test it alone.
    assert safe_cell(f"{lead}=cmd") == f"'{lead}=cmd"
    with pytest.raises(RegisterError, match="printable"):
        api.register(owner=f"{lead}=cmd")


def test_csv_export_needs_an_admin(api: Api) -> None:
    assert api.client.get("/api/v1/compliance.csv").status_code == 401
    assert api.client.get("/api/v1/compliance.csv", headers=api.device).status_code == 401


# pagination, sorting and filters -----------------------------------------------------------


@pytest.fixture
def fleet(api: Api) -> Api:
    """The enrolled 'fuzzed-laptop' plus seven registered devices."""
    for n in range(7):
        api.register(f"dev-{n}", owner=f"Owner {n % 2}", department=["Physics", "Law"][n % 2])
    return api


def names(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [d["name"] for d in response.json()]


def test_devices_are_paginated_with_a_total(fleet: Api) -> None:
    first = fleet.client.get("/api/v1/devices", params={"limit": 3}, headers=fleet.admin)
    assert names(first) == ["dev-0", "dev-1", "dev-2"]
    assert first.headers["X-Total-Count"] == "8"
    rest = fleet.client.get(
        "/api/v1/devices", params={"limit": 3, "offset": 6}, headers=fleet.admin
    )
    assert names(rest) == ["dev-6", "fuzzed-laptop"]
    assert rest.headers["X-Total-Count"] == "8"
    past = fleet.client.get("/api/v1/devices", params={"offset": 100}, headers=fleet.admin)
    assert names(past) == [] and past.headers["X-Total-Count"] == "8"


def test_devices_sort_descending(fleet: Api) -> None:
    response = fleet.client.get(
        "/api/v1/devices", params={"sort": "name", "desc": "true", "limit": 2}, headers=fleet.admin
    )
    assert names(response) == ["fuzzed-laptop", "dev-6"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"q": "physics"}, ["dev-0", "dev-2", "dev-4", "dev-6"]),  # department, any case
        ({"q": "OWNER 1"}, ["dev-1", "dev-3", "dev-5"]),
        ({"q": "dev-3"}, ["dev-3"]),
        ({"q": "nothing like it"}, []),
        ({"state": "awaiting_enrolment", "q": "law"}, ["dev-1", "dev-3", "dev-5"]),
        ({"state": "revoked"}, []),
    ],
)
def test_devices_filter(fleet: Api, params: dict[str, str], expected: list[str]) -> None:
    response = fleet.client.get("/api/v1/devices", params=params, headers=fleet.admin)
    assert names(response) == expected
    assert response.headers["X-Total-Count"] == str(len(expected))


def test_devices_filter_by_state(fleet: Api) -> None:
    everyone = fleet.client.get("/api/v1/devices", headers=fleet.admin).json()
    states = {d["name"]: d["state"] for d in everyone}
    enrolled_state = states.pop("fuzzed-laptop")
    assert set(states.values()) == {"awaiting_enrolment"}  # registered, never enrolled
    response = fleet.client.get(
        "/api/v1/devices", params={"state": enrolled_state}, headers=fleet.admin
    )
    assert "fuzzed-laptop" in names(response)


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 501},
        {"offset": -1},
        {"sort": "owner; DROP TABLE devices"},
        {"state": "happy"},
        {"q": "x" * 101},
        {"desc": "maybe"},
    ],
)
def test_bad_list_parameters_are_422(api: Api, params: dict[str, Any]) -> None:
    response = api.client.get("/api/v1/devices", params=params, headers=api.admin)
    assert response.status_code == 422, response.text


def test_a_huge_offset_is_not_a_server_error(api: Api) -> None:
    client = TestClient(api.app, raise_server_exceptions=False)
    response = client.get("/api/v1/devices", params={"offset": 2**63}, headers=api.admin)
    assert response.status_code in (200, 422), response.text


def test_search_treats_like_wildcards_literally(api: Api) -> None:
    api.register("lab_1")
    api.register("labx1")
    response = api.client.get("/api/v1/devices", params={"q": "lab_1"}, headers=api.admin)
    assert names(response) == ["lab_1"]
    everything = api.client.get("/api/v1/devices", params={"q": "%"}, headers=api.admin)
    assert names(everything) == []


# who may read what --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/api/v1/devices", "/api/v1/devices/{id}", "/api/v1/devices/{id}/history"]
)
def test_fleet_routes_need_an_admin_token(api: Api, path: str) -> None:
    url = path.replace("{id}", api.device_id)
    assert api.client.get(url, headers=api.admin).status_code == 200
    for headers in ({}, api.device, {"Authorization": "Bearer osa_forged"}):
        response = api.client.get(url, headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["WWW-Authenticate"] == "Bearer"


def test_an_admin_token_is_no_device_secret(api: Api, report: dict[str, Any]) -> None:
    report["device_id"] = api.device_id
    response = api.client.post("/api/v1/reports", json=report, headers=api.admin)
    assert response.status_code == 401
    assert api.client.get("/api/v1/policy", headers=api.admin).status_code == 401


def test_an_unknown_device_is_404(api: Api) -> None:
    for path in ("/api/v1/devices/{id}", "/api/v1/devices/{id}/history"):
        url = path.replace("{id}", str(uuid.uuid4()))
        assert api.client.get(url, headers=api.admin).status_code == 404


def test_device_detail_before_any_report(api: Api) -> None:
    detail = api.client.get(f"/api/v1/devices/{api.device_id}", headers=api.admin).json()
    assert detail["reports_received"] == 0
    assert detail["facts"] is None and detail["rules"] == []
    assert detail["enrolled_at"] is not None and detail["hostname"] == "laptop"


# the report route's fast path ---------------------------------------------------------------


def fast_path_cases(api: Api, report: dict[str, Any]) -> list[Any]:
    """One request of each kind the report route answers, sent in this order."""
    fresh = {**report, "device_id": api.device_id, "report_id": str(uuid.uuid4())}
    incomplete = {k: v for k, v in fresh.items() if k != "host"} | {"report_id": str(uuid.uuid4())}
    cases: list[tuple[dict[str, str], bytes]] = [
        ({}, json.dumps(fresh).encode()),
        ({"Authorization": "Bearer osd_forged"}, json.dumps(fresh).encode()),
        (api.device, b"[1,"),
        ({**api.device, "Content-Encoding": "br"}, json.dumps(fresh).encode()),
        (api.device, json.dumps(incomplete).encode()),
        (api.device, b" " * (api.state.settings.max_body_bytes + 1)),
        (api.device, json.dumps(fresh).encode()),
        (api.device, json.dumps(fresh).encode()),  # the same again: a duplicate
    ]
    answers = []
    for headers, body in cases:
        headers = {"Content-Type": "application/json", **headers}
        response = api.client.post("/api/v1/reports", content=body, headers=headers)
        kept = ("content-type", "www-authenticate", "retry-after")
        answers.append(
            (response.status_code, response.json(), [response.headers.get(h) for h in kept])
        )
    return answers


def test_the_fast_path_answers_as_the_router_would(
    api: Api, report: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """api.fast_path serves POST /api/v1/reports ahead of FastAPI's router, with the same
    handler: every kind of answer must be what the router gives (status, JSON, headers), as a
    collector with the fast path turned off (--no-report-fast-path) answers."""
    served = []
    handler = fast_path.post_report

    async def counted(request: Any) -> Any:
        served.append(request.url.path)
        return await handler(request)

    monkeypatch.setattr(fast_path, "post_report", counted)
    through_fast_path = fast_path_cases(api, report)
    assert len(served) == 8  # the fast path, not the router, answered them
    statuses = [status for status, _, _ in through_fast_path]
    assert statuses == [401, 401, 400, 415, 422, 413, 200, 200]
    assert through_fast_path[6][1]["duplicate"] is False and through_fast_path[7][1]["duplicate"]
    assert api.client.get("/api/v1/reports", headers=api.device).status_code == 405

    (tmp_path / "no-fast-path").mkdir()
    for without in make_api(tmp_path / "no-fast-path", report_fast_path=False):
        assert ReportsFastPath not in [m.cls for m in without.app.user_middleware]
        through_router = fast_path_cases(without, report)
    assert len(served) == 8
    assert through_router == through_fast_path


def test_the_fast_path_switch_reaches_every_worker() -> None:
    """collector serve --no-report-fast-path; with --workers the setting travels as
    OUTPOST_REPORT_FAST_PATH=0 to the worker processes, which rebuild their settings."""
    assert settings_from(env={}).report_fast_path is True
    args = build_parser().parse_args(["serve", "--no-report-fast-path"])
    assert args.report_fast_path is False
    assert build_parser().parse_args(["serve"]).report_fast_path is None  # the default holds
    off = settings_from(report_fast_path=False, env={})
    on = settings_from(env={})
    assert settings_from(env=_environment_for(off)).report_fast_path is False
    assert settings_from(env=_environment_for(on)).report_fast_path is True


def test_the_csv_export_streams_every_device_in_batches(api: Api) -> None:
    """Rows leave a batch at a time from a server-side cursor: many chunks, every device once,
    in name order whatever the case."""
    with api.state.sessions.begin() as session:
        for n in range(2500):
            register_device(
                session, name=f"{'Bulk' if n % 2 else 'bulk'}-{n:05d}", owner="o",
                department="d", approved_by="h", justification="j",
                expires=date(2099, 12, 31), token_ttl_days=7, actor="tests",
            )  # fmt: skip
    with api.client.stream("GET", "/api/v1/compliance.csv", headers=api.admin) as response:
        assert response.status_code == 200
        chunks = list(response.iter_text())
    assert len([c for c in chunks if c]) >= 3
    rows = list(csv.DictReader(io.StringIO("".join(chunks))))
    bulk = [r["name"] for r in rows if r["name"].lower().startswith("bulk")]
    assert len(bulk) == 2500 and bulk == sorted(bulk, key=str.lower)
