"""Bad input to a running collector, on SQLite and on PostgreSQL: each gets its status and a clear
message, and leaves the database exactly as it was (rows read directly from the database, plus
what the API says about the devices)."""

from __future__ import annotations

import gzip
import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.system.conftest import Collector, EnrolledDevice

pytestmark = pytest.mark.system

MIB = 1024 * 1024
NewReport = Callable[[str], dict[str, Any]]


@dataclass(frozen=True)
class Fleet:
    """Two enrolled devices, each with one accepted report."""

    victim: EnrolledDevice
    other: EnrolledDevice
    victim_token: str  # already used at enrolment
    victim_report: dict[str, Any]


@pytest.fixture(scope="module")
def fleet(
    collector: Collector,
    tmp_path_factory: pytest.TempPathFactory,
    report_template: dict[str, Any],
) -> Iterator[Fleet]:
    root = tmp_path_factory.mktemp(f"fleet-{collector.backend}")
    registration = collector.register()
    victim = collector.enrol(root / "victim", registration)
    other = collector.enrol(root / "other")
    reports = {}
    for device in (victim, other):
        report = {**report_template, "report_id": str(uuid.uuid4()), "device_id": device.device_id}
        collector.send(device.auth, report)
        reports[device.device_id] = report
    yield Fleet(victim, other, registration.token, reports[victim.device_id])


# A refusal for good is counted on its device (test_refusals_are_counted_on_their_device):
# the one change a bad report makes.
REFUSAL_COUNT = ("reports_refused", "last_refused_at", "last_refusal")


def _without_refusals(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in REFUSAL_COUNT}


def refusals(collector: Collector, fleet: Fleet) -> int:
    ids = (fleet.victim.device_id, fleet.other.device_id)
    return sum(int(collector.device(d)["reports_refused"]) for d in ids)


# A refusal for good also raises one alert (and its deliveries); the day's fleet counts are
# the sweeper's, kept on its own clock.
COUNTED_APART = ("alerts", "alert_deliveries", "fleet_days")


def alerts(collector: Collector) -> int:
    return collector.row_counts()["alerts"]


def snapshot(collector: Collector, *device_ids: str) -> dict[str, Any]:
    """Everything a bad request must not change."""
    rows = {k: v for k, v in collector.row_counts().items() if k not in COUNTED_APART}
    return {
        "rows": rows,
        "devices": [_without_refusals(row) for row in collector.rows("devices")],
        "enrolment_tokens": collector.rows("enrolment_tokens"),
        "rule_states": collector.rows("rule_states"),
        "api_devices": collector.admin_json("/api/v1/devices", limit=500),
        "details": {d: _without_refusals(collector.device(d)) for d in device_ids},
        "history": {d: collector.history(d) for d in device_ids},
    }


@pytest.fixture
def unchanged(collector: Collector, fleet: Fleet) -> Iterator[None]:
    """Fails the test if the database or the API view changed during it."""
    ids = (fleet.victim.device_id, fleet.other.device_id)
    before = snapshot(collector, *ids)
    assert before["details"][fleet.victim.device_id]["reports_received"] == 1
    yield
    after = snapshot(collector, *ids)
    for key in before:
        assert after[key] == before[key], f"{key} changed"


def detail_text(response: requests.Response) -> str:
    detail = response.json()["detail"]
    return detail["message"] if isinstance(detail, dict) else str(detail)


def post(
    collector: Collector, auth: dict[str, str], body: bytes | Iterator[bytes], **headers: str
) -> requests.Response:
    sent = {"Content-Type": "application/json", **auth, **headers}
    return requests.post(collector.url + "/api/v1/reports", data=body, headers=sent, timeout=30)


def report_for(fleet: Fleet, new_report: NewReport) -> dict[str, Any]:
    return new_report(fleet.victim.device_id)


# each case: (collector, fleet, new_report) -> response; then expected status and words ------

Case = Callable[[Collector, Fleet, NewReport], requests.Response]


def no_authorization(c: Collector, f: Fleet, r: NewReport) -> requests.Response:
    return c.post_report({}, r(f.victim.device_id))


def wrong_secret(c: Collector, f: Fleet, r: NewReport) -> requests.Response:
    auth = {"Authorization": "Bearer osd_" + uuid.uuid4().hex}
    return c.post_report(auth, r(f.victim.device_id))


def basic_auth_scheme(c: Collector, f: Fleet, r: NewReport) -> requests.Response:
    auth = {"Authorization": f.victim.auth["Authorization"].replace("Bearer", "Basic")}
    return c.post_report(auth, r(f.victim.device_id))


def over_1_mib(c: Collector, f: Fleet, r: NewReport) -> requests.Response:
    report = r(f.victim.device_id)
    body = json.dumps(report).encode()
    body = body[:-1] + b', "padding": "' + b"x" * MIB + b'"}'
    return post(c, f.victim.auth, body)


def over_1_mib_chunked(c: Collector, f: Fleet, r: NewReport) -> requests.Response:
    """No Content-Length: the limit holds while the body streams in."""
    return post(c, f.victim.auth, iter([b" " * 65536] * 17))


def gzip_bomb(c: Collector, f: Fleet, r: NewReport) -> requests.Response:
    report = r(f.victim.device_id)
    body = json.dumps(report).encode()
    inflated = body[:-1] + b', "padding": "' + b"A" * (4 * MIB) + b'"}'
    bomb = gzip.compress(inflated, 9)
    assert len(bomb) < 16 * 1024, len(bomb)
    return post(c, f.victim.auth, bomb, **{"Content-Encoding": "gzip"})


def invalid_gzip(c: Collector, f: Fleet, r: NewReport) -> requests.Response:
    body = json.dumps(r(f.victim.device_id)).encode()
    return post(c, f.victim.auth, body, **{"Content-Encoding": "gzip"})


def truncated_gzip(c: Collector, f: Fleet, r: NewReport) -> requests.Response:
    body = gzip.compress(json.dumps(r(f.victim.device_id)).encode())
    return post(c, f.victim.auth, body[: len(body) // 2], **{"Content-Encoding": "gzip"})


def unsupported_encoding(c: Collector, f: Fleet, r: NewReport) -> requests.Response:
    body = json.dumps(r(f.victim.device_id)).encode()
    return post(c, f.victim.auth, body, **{"Content-Encoding": "br"})


def not_json(c: Collector, f: Fleet, r: NewReport) -> requests.Response:
    return post(c, f.victim.auth, b"schema_version=1&report_id=x")


def not_utf8(c: Collector, f: Fleet, r: NewReport) -> requests.Response:
    return post(c, f.victim.auth, b'{"schema_version": "\xff\xfe"}')


def deeply_nested_json(c: Collector, f: Fleet, r: NewReport) -> requests.Response:
    return post(c, f.victim.auth, b"[" * 5000 + b"]" * 5000)


def json_array(c: Collector, f: Fleet, r: NewReport) -> requests.Response:
    return post(c, f.victim.auth, json.dumps([r(f.victim.device_id)]).encode())


def missing_hostname(c: Collector, f: Fleet, r: NewReport) -> requests.Response:
    report = r(f.victim.device_id)
    del report["host"]["hostname"]
    return c.post_report(f.victim.auth, report)


def probe_status_fine(c: Collector, f: Fleet, r: NewReport) -> requests.Response:
    report = r(f.victim.device_id)
    report["probes"]["network"]["status"] = "fine"
    return c.post_report(f.victim.auth, report, compress=True)


def schema_version_2(c: Collector, f: Fleet, r: NewReport) -> requests.Response:
    report = r(f.victim.device_id)
    report["schema_version"] = 2
    return c.post_report(f.victim.auth, report)


def unknown_top_level_field(c: Collector, f: Fleet, r: NewReport) -> requests.Response:
    report = r(f.victim.device_id)
    report["smuggled"] = {"state": "compliant"}
    return c.post_report(f.victim.auth, report)


def device_id_of_another_device(c: Collector, f: Fleet, r: NewReport) -> requests.Response:
    return c.post_report(f.victim.auth, r(f.other.device_id))


def report_id_of_another_device(c: Collector, f: Fleet, r: NewReport) -> requests.Response:
    """The other device replays the victim's accepted report id as its own report."""
    report = {**f.victim_report, "device_id": f.other.device_id}
    return c.post_report(f.other.auth, report)


def secret_from_another_machine(c: Collector, f: Fleet, r: NewReport) -> requests.Response:
    report = r(f.victim.device_id)
    report["host"]["hardware_id_hash"] = "0" * 64
    return c.post_report(f.victim.auth, report)


def case(call: Case, status: int, words: list[str]) -> Any:
    return pytest.param(call, status, words, id=call.__name__)


CASES = [
    case(no_authorization, 401, ["device secret is required"]),
    case(wrong_secret, 401, ["unknown device secret"]),
    case(basic_auth_scheme, 401, ["device secret is required"]),
    case(over_1_mib, 413, ["larger than 1048576 bytes"]),
    case(over_1_mib_chunked, 413, ["larger than 1048576 bytes"]),
    case(gzip_bomb, 413, ["larger than 1048576 bytes once decompressed"]),
    case(invalid_gzip, 400, ["not valid gzip"]),
    case(truncated_gzip, 400, ["truncated"]),
    case(unsupported_encoding, 415, ["br"]),
    case(not_json, 400, ["not JSON"]),
    case(not_utf8, 400, ["not JSON"]),
    case(deeply_nested_json, 400, ["nests too deeply"]),
    case(json_array, 422, ["JSON object"]),
    case(missing_hostname, 422, ["hostname"]),
    case(probe_status_fine, 422, ["status", "fine"]),
    case(schema_version_2, 422, ["schema_version"]),
    case(unknown_top_level_field, 422, ["smuggled"]),
    case(device_id_of_another_device, 422, ["device_id"]),
    case(report_id_of_another_device, 409, ["another device"]),
    case(secret_from_another_machine, 403, ["another machine"]),
]


@pytest.mark.parametrize(("case", "status", "words"), CASES)
@pytest.mark.usefixtures("unchanged")
def test_a_bad_report_gets_its_status_and_changes_nothing(
    collector: Collector,
    fleet: Fleet,
    new_report: NewReport,
    case: Case,
    status: int,
    words: list[str],
) -> None:
    rejected_before = collector.metrics()['outpost_reports_total{outcome="rejected"}']
    refused_before, alerts_before = refusals(collector, fleet), alerts(collector)
    response = case(collector, fleet, new_report)
    assert response.status_code == status, response.text
    message = detail_text(response)
    for word in words:
        assert word in message, message
    if status == 401:
        assert response.headers["WWW-Authenticate"] == "Bearer"
    rejected = collector.metrics()['outpost_reports_total{outcome="rejected"}']
    if status != 401:  # refused before the handler ran: not counted as a report
        assert rejected == rejected_before + 1
    # Counted on its device when the device is known: not for a bad secret, nor for a body
    # refused by its size before the secret was checked.
    unattributed = status == 401 or case in (over_1_mib, over_1_mib_chunked)
    assert refusals(collector, fleet) == refused_before + (0 if unattributed else 1)
    assert alerts(collector) == alerts_before + (0 if unattributed else 1)


def test_schema_errors_list_every_field(
    collector: Collector, fleet: Fleet, new_report: NewReport, unchanged: None
) -> None:
    report = new_report(fleet.victim.device_id)
    del report["host"]["hostname"]
    report["probes"]["network"]["status"] = "fine"
    response = collector.post_report(fleet.victim.auth, report)
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["detail"]["errors"]}
    assert fields == {"$.host", "$.probes.network.status"}


# enrolment tokens --------------------------------------------------------------------------


def enrol_raw(collector: Collector, token: str, hostname: str = "laptop") -> requests.Response:
    body = {"token": token, "hostname": hostname, "hardware_id_hash": "ab" * 32}
    return requests.post(collector.url + "/api/v1/enroll", json=body, timeout=10)


@pytest.mark.usefixtures("unchanged")
def test_an_enrolment_token_works_once(collector: Collector, fleet: Fleet) -> None:
    reused = enrol_raw(collector, fleet.victim_token)
    assert reused.status_code == 401
    assert "unknown, used or expired" in detail_text(reused)
    # The victim keeps its secret: a replayed token cannot take the device over.
    policy = requests.get(collector.url + "/api/v1/policy", headers=fleet.victim.auth, timeout=10)
    assert policy.status_code == 200


@pytest.mark.usefixtures("unchanged")
def test_an_unknown_enrolment_token_is_refused(collector: Collector) -> None:
    for token in ("ose_" + uuid.uuid4().hex, "x"):
        response = enrol_raw(collector, token)
        assert response.status_code == 401
        assert "unknown, used or expired" in detail_text(response)


def test_an_expired_enrolment_token_is_refused(collector: Collector, fleet: Fleet) -> None:
    registration = collector.register_cli(token_ttl=0)
    ids = (fleet.victim.device_id, registration.device_id)
    before = snapshot(collector, *ids)
    response = enrol_raw(collector, registration.token)
    assert response.status_code == 401
    assert "unknown, used or expired" in detail_text(response)
    assert snapshot(collector, *ids) == before
    assert collector.device(registration.device_id)["enrolled_at"] is None


@pytest.mark.parametrize(
    "body",
    [{}, {"token": "ose_x"}, {"token": "", "hostname": "h"}, {"token": 1, "hostname": "h"}],
    ids=["empty", "no-hostname", "empty-token", "token-not-a-string"],
)
@pytest.mark.usefixtures("unchanged")
def test_a_malformed_enrolment_is_422(collector: Collector, body: dict[str, Any]) -> None:
    response = requests.post(collector.url + "/api/v1/enroll", json=body, timeout=10)
    assert response.status_code == 422, response.text


# revocation --------------------------------------------------------------------------------


def test_a_revoked_device_is_refused(
    collector: Collector, tmp_path: Path, new_report: NewReport
) -> None:
    device = collector.enrol(tmp_path / "agent")
    collector.send(device.auth, new_report(device.device_id))

    revoked = collector.cli("device", "revoke", device.name)  # while the server runs
    assert revoked.returncode == 0, revoked.stderr
    assert revoked.stdout.strip() == f"revoked {device.name}"
    detail = collector.device(device.device_id)
    assert detail["state"] == "revoked" and detail["revoked_at"] is not None
    state_events = [e for e in collector.history(device.device_id) if e["kind"] == "state"]
    assert state_events[0]["new"] == "revoked"

    before = snapshot(collector, device.device_id)
    refused = collector.post_report(device.auth, new_report(device.device_id))
    assert refused.status_code == 403
    assert "revoked" in detail_text(refused)
    policy = requests.get(collector.url + "/api/v1/policy", headers=device.auth, timeout=10)
    assert policy.status_code == 403
    assert snapshot(collector, device.device_id) == before

    # A new token for a revoked device cannot bring it back.
    token = collector.cli("device", "token", device.name)
    assert token.returncode == 0, token.stderr
    before = snapshot(collector, device.device_id)
    again = enrol_raw(collector, token.stdout.strip().splitlines()[-1])
    assert again.status_code == 403
    assert snapshot(collector, device.device_id) == before


# bugs: input the schema lets through but the collector cannot handle -----------------------


@pytest.fixture
def lone(collector: Collector, tmp_path: Path) -> EnrolledDevice:
    """A device of its own, for tests that (through a bug) may change what they touch."""
    return collector.enrol(tmp_path / "agent")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("report_id", "r" * 100),
        ("report_id", "not-a-uuid"),
        ("collected_at", "2026-01-01T00:00:00Z" + " " * 30),
        ("collected_at", "not a date"),
    ],
    ids=[
        "report_id-too-long",
        "report_id-not-a-uuid",
        "collected_at-too-long",
        "collected_at-not-a-time",
    ],
)
def test_report_id_and_collected_at_are_validated(
    collector: Collector, lone: EnrolledDevice, new_report: NewReport, field: str, value: str
) -> None:
    report = new_report(lone.device_id)
    report[field] = value
    before = snapshot(collector, lone.device_id)
    response = collector.post_report(lone.auth, report)
    assert response.status_code == 422, response.text
    assert field in detail_text(response)
    assert snapshot(collector, lone.device_id) == before


@pytest.mark.parametrize("collected_at", ["9999-12-31T23:59:59Z", "not a date"])
def test_a_report_from_the_future_does_not_freeze_the_device(
    collector: Collector, lone: EnrolledDevice, new_report: NewReport, collected_at: str
) -> None:
    future = new_report(lone.device_id)
    future["collected_at"] = collected_at
    if collector.post_report(lone.auth, future).status_code == 200:  # 422 would be right too
        collector.wait_for_report(future["report_id"])
    current = new_report(lone.device_id)
    collector.send(lone.auth, current)
    assert collector.device(lone.device_id)["facts"]["report_id"] == current["report_id"]


def test_a_report_without_hardware_id_from_a_bound_device_is_refused(
    collector: Collector, lone: EnrolledDevice, new_report: NewReport
) -> None:
    bound = collector.scalar("SELECT hardware_id_hash FROM devices WHERE id = :d", d=lone.device_id)
    assert bound
    report = new_report(lone.device_id)
    report["host"]["hardware_id_hash"] = None
    response = collector.post_report(lone.auth, report)
    assert response.status_code == 403, response.text


def test_a_nul_in_the_search_is_not_a_server_error(collector: Collector) -> None:
    response = collector.admin_get("/api/v1/devices", q="lap\x00top")
    assert response.status_code in (200, 400, 422), response.text  # 400: api.guard refuses it


def test_an_enrolment_answered_200_can_be_used(collector: Collector) -> None:
    """A hostname with a NUL character: refusing it is fine, but a 200 must mean enrolled."""
    registration = collector.register()
    response = enrol_raw(collector, registration.token, hostname="lap\x00top")
    if response.status_code == 200:
        secret = response.json()["device_secret"]
        auth = {"Authorization": f"Bearer {secret}"}
        deadline = (
            time.monotonic() + 2
        )  # the commit comes after the answer: see test_collector_commit
        while collector.device(registration.device_id)["enrolled_at"] is None:
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)
        policy = requests.get(collector.url + "/api/v1/policy", headers=auth, timeout=10)
        assert policy.status_code == 200, "the secret the collector answered with does not work"
    else:
        assert 400 <= response.status_code < 500, response.text
