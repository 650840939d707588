"""ingest_batch on a real collector database, several reports per transaction: authentication
and its order, deduplication inside and across batches, arrival order, rule and state events, the
rules digest and its repair after the sweeper; and ReportWriter.store_batch when the database
refuses. SQLite always; PostgreSQL too when OUTPOST_TEST_PG_URL names a server."""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import Executable, create_engine, select, update

from server_stub.api.outcomes import ANSWERS, status_of
from server_stub.app import create_app
from server_stub.config import Settings
from server_stub.ingest import outcomes as refusals
from server_stub.ingest.batch import ingest_batch
from server_stub.ingest.outcomes import Accepted, Outcome, RefusalKind, Refused
from server_stub.ingest.reading import IncomingReport, Submission
from server_stub.ingest.runner import ReportWriter
from server_stub.ingest.sweeper import sweep
from server_stub.security import token_hash
from server_stub.state import CollectorState
from server_stub.storage.clock import utcnow
from server_stub.storage.devices import register_device, revoke_device
from server_stub.storage.tables import Device, Event, Report, RuleState
from tests.system.pg import ENV_VAR, PgServer

BACKENDS = ["sqlite", *(["postgresql"] if os.environ.get(ENV_VAR) else [])]
IP = "100.64.3.7"
NEW = Accepted(False, "compliant", [])
Answer = Outcome


@pytest.fixture(params=BACKENDS)
def state(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CollectorState]:
    server = PgServer() if request.param == "postgresql" else None
    url = server.create_database() if server else f"sqlite:///{tmp_path / 'c.db'}"
    app = create_app(Settings(data_dir=tmp_path, database_url=url), run_sweeper=False)
    collector: CollectorState = app.state.collector
    yield collector
    collector.ingest.close()
    collector.engine.dispose()
    if server:
        server.close()


@dataclass(frozen=True)
class Dev:
    id: str
    secret: str

    @property
    def hash(self) -> str:
        return token_hash(self.secret)


def add_device(state: CollectorState, revoked: bool = False) -> Dev:
    name, secret = f"laptop-{uuid.uuid4().hex[:8]}", f"osd_{uuid.uuid4().hex}"
    people = {"owner": "Ada", "department": "Press", "approved_by": "Head", "actor": "tests"}
    expires = date.today() + timedelta(days=180)
    with state.sessions.begin() as session:
        registration = register_device(
            session, name=name, justification="x", expires=expires, token_ttl_days=7, **people
        )
        device = session.get_one(Device, registration.device_id)
        device.secret_hash = token_hash(secret)
        device.state = "unknown"  # as enrolment leaves it
        if revoked:
            revoke_device(session, name, "tests")
    return Dev(registration.device_id, secret)


def stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


# A compliant Debian laptop on 4G (every rule passes or does not apply).
# fmt: off
PROBES: dict[str, dict[str, Any]] = {
    "applications": {"browsers": [], "tiktok": [], "gaps": {}},
    "network": {
        "interfaces": [{"name": "wwan0", "kind": "cellular", "is_up": True, "mac": None,
                        "addresses": [{"address": IP, "prefix": 30, "family": "inet"}]}],
        "gateways": [{"address": "100.64.3.5", "interface": "wwan0", "family": "inet"}],
        "dns_servers": ["100.64.0.1"], "dns_search_domains": [], "wifi_ssids": [],
        "saved_wifi_profiles": [], "vpn_connections": [], "network_shares": [], "gaps": {}},
    "accounts": {
        "logged_in": [{"name": "tiktok", "terminal": "tty1", "host": None, "started_at": None}],
        "local_accounts": [{"name": "tiktok", "uid": "1000", "admin": False, "enabled": True,
                            "source": "local"}],
        "domain_join": {"joined": False, "kind": None, "domain": None, "tenant_id": None},
        "work_accounts": [], "gaps": {}},
    "device_security": {
        "disk_encrypted": True, "disk_encryption_detail": "luks", "firewall_enabled": True,
        "firewall_detail": "ufw", "screen_lock_enabled": True, "screen_lock_detail": "300 s",
        "gaps": {}},
    "credentials": {"findings": [], "not_inspected": [], "homes": ["/home/tiktok"],
                    "files_scanned": 1, "bytes_scanned": 10, "skipped": {}, "complete": True},
    "data_labels": {"findings": [], "not_inspected": [], "homes": ["/home/tiktok"],
                    "files_inspected": 0, "bytes_read": 0, "skipped": {}, "complete": True},
}
HOST = {"hostname": "tt-01", "os": "debian", "os_version": "12.11", "os_build": "bookworm",
        "kernel": "6.1", "arch": "x86_64", "boot_time": None, "hardware_id_hash": None}
OS = {"os_id": "debian", "os_name": "Debian", "os_version": "12.11", "os_build": "bookworm",
      "kernel": "6.1"}
# fmt: on


def report(
    state: CollectorState, dev: Dev, pending: int = 0, collected: datetime | None = None
) -> dict[str, Any]:
    """A schema-valid report of that laptop, with `pending` security updates (PATCH-002)."""
    when = collected or utcnow()
    patch = {
        "os": OS, "package_manager": "apt", "last_update_at": stamp(when - timedelta(hours=3)),
        "pending_updates": pending, "pending_security_updates": pending,
        "security_updates": ["openssl"] if pending else [], "updates_checked_at": None,
        "reboot_pending": False, "auto_updates": True, "gaps": {},
    }  # fmt: skip
    probes = {**PROBES, "patch_level": patch}
    body = {
        "schema_version": 1, "report_id": str(uuid.uuid4()), "device_id": dev.id,
        "agent": {"version": "0.1.0", "dropped_reports": 0}, "collected_at": stamp(when),
        "host": HOST,
        "probes": {name: {"status": "ok", "duration_ms": 5, "data": data, "error": None}
                   for name, data in probes.items()},
    }  # fmt: skip
    state.validator.validate(body)
    return body


def sub(dev: Dev | None, body: dict[str, Any] | None, error: Refused | None = None) -> Submission:
    return Submission(dev.hash if dev else None, body, error, IP)


def ingest(state: CollectorState, *items: Submission, now: datetime | None = None) -> list[Answer]:
    with state.engine.begin() as connection:
        return ingest_batch(connection, list(items), state.served_policy.evaluator, now or utcnow())


def execute(state: CollectorState, *statements: Executable) -> None:
    with state.engine.begin() as connection:
        for statement in statements:
            connection.execute(statement)


def stored_reports(state: CollectorState) -> dict[str, str]:
    """report id -> device id, for every row in reports."""
    with state.engine.connect() as connection:
        return {
            str(id_): str(owner)
            for id_, owner in connection.execute(select(Report.id, Report.device_id))
        }


def device(state: CollectorState, dev: Dev) -> dict[str, Any]:
    with state.engine.connect() as connection:
        return dict(connection.execute(select(Device).where(Device.id == dev.id)).one()._mapping)


def rule_states(state: CollectorState, dev: Dev) -> dict[str, dict[str, Any]]:
    """rule id -> the whole rule_states row."""
    with state.engine.connect() as connection:
        found = connection.execute(select(RuleState).where(RuleState.device_id == dev.id))
        return {row.rule_id: dict(row._mapping) for row in found}


def change_rule(dev: Dev, rule_id: str, **values: Any) -> Executable:
    where = (RuleState.device_id == dev.id) & (RuleState.rule_id == rule_id)
    return update(RuleState).where(where).values(**values)


def events(state: CollectorState, dev: Dev) -> list[tuple[Any, ...]]:
    """(kind, rule_id, old, new, report_id) in the order they were written."""
    columns = (Event.kind, Event.rule_id, Event.old, Event.new, Event.report_id)
    statement = select(*columns).where(Event.device_id == dev.id).order_by(Event.id)
    with state.engine.connect() as connection:
        return [tuple(row) for row in connection.execute(statement)]


def test_reports_of_two_devices_in_one_batch_are_both_stored(state: CollectorState) -> None:
    a, b = add_device(state), add_device(state)
    ra, rb = report(state, a), report(state, b)
    assert ingest(state, sub(a, ra), sub(b, rb)) == [NEW, NEW]
    assert stored_reports(state) == {ra["report_id"]: a.id, rb["report_id"]: b.id}
    for dev, body in ((a, ra), (b, rb)):
        row = device(state, dev)
        assert (row["reports_received"], row["last_report_id"]) == (1, body["report_id"])
        assert (row["state"], row["failing_rules"], row["last_source_ip"]) == ("compliant", [], IP)
        assert row["rules_digest"] and row["last_seen_at"] is not None
        rules = rule_states(state, dev)
        assert {"PATCH-002", "ADM-001", "ADM-002"} <= rules.keys()
        assert {rule["status"] for rule in rules.values()} <= {"pass", "not_applicable"}
        assert ("state", None, "unknown", "compliant", body["report_id"]) in events(state, dev)


def test_the_same_report_twice_in_one_batch_is_stored_once(state: CollectorState) -> None:
    a = add_device(state)
    body = report(state, a)
    resent = Accepted(True, "compliant", [])
    assert ingest(state, sub(a, body), sub(a, body)) == [NEW, resent]
    assert stored_reports(state) == {body["report_id"]: a.id}
    assert device(state, a)["reports_received"] == 1
    assert ingest(state, sub(a, body)) == [resent]  # and in a later batch
    assert stored_reports(state) == {body["report_id"]: a.id}
    assert device(state, a)["reports_received"] == 1


def test_a_report_id_of_another_device_is_refused_and_the_rest_stored(
    state: CollectorState,
) -> None:
    a, b = add_device(state), add_device(state)
    first = report(state, a)
    ingest(state, sub(a, first))
    stolen = {**report(state, b), "report_id": first["report_id"]}
    good_b, good_a = report(state, b), report(state, a)
    shared = report(state, a)  # a new id, sent by both devices in the same batch
    copied = {**report(state, b), "report_id": shared["report_id"]}
    items = [sub(b, stolen), sub(b, good_b), sub(a, shared), sub(b, copied), sub(a, good_a)]
    assert ingest(state, *items) == [refusals.ID_TAKEN, NEW, NEW, refusals.ID_TAKEN, NEW]
    assert stored_reports(state) == {
        first["report_id"]: a.id,
        good_b["report_id"]: b.id,
        shared["report_id"]: a.id,
        good_a["report_id"]: a.id,
    }
    with state.engine.connect() as connection:
        bodies = connection.execute(select(Report.body).where(Report.device_id == b.id))
        assert [body["report_id"] for body in bodies.scalars()] == [good_b["report_id"]]
    assert (device(state, b)["reports_received"], device(state, a)["reports_received"]) == (1, 3)
    assert device(state, b)["last_report_id"] == good_b["report_id"]
    assert (device(state, b)["reports_refused"], device(state, a)["reports_refused"]) == (2, 0)
    assert device(state, b)["last_refusal"].startswith("id_taken: this report id belongs to")


def test_unknown_missing_and_revoked_secrets_are_refused_beside_good_reports(
    state: CollectorState,
) -> None:
    a, b, gone = add_device(state), add_device(state), add_device(state, revoked=True)
    stranger, bound = Dev(str(uuid.uuid4()), "osd_never-issued"), add_device(state)
    execute(state, update(Device).where(Device.id == bound.id).values(hardware_id_hash="f" * 64))
    ra, rb = report(state, a), report(state, b)
    items = [sub(stranger, report(state, stranger)), sub(a, ra), sub(gone, report(state, gone))]
    items += [sub(None, report(state, a)), sub(a, report(state, b))]  # no secret; b's report
    items += [sub(bound, report(state, bound)), sub(b, rb)]  # from a machine that hides its id
    answers, r = ingest(state, *items), refusals
    assert answers == [
        r.UNKNOWN_SECRET,
        NEW,
        r.REVOKED,
        r.NO_SECRET,
        r.WRONG_DEVICE,
        r.OTHER_MACHINE,
        NEW,
    ]
    statuses = [status_of(a.kind) for a in answers if isinstance(a, Refused)]
    assert statuses == [401, 403, 401, 422, 403]
    assert stored_reports(state) == {ra["report_id"]: a.id, rb["report_id"]: b.id}
    assert [device(state, d)["reports_refused"] for d in (a, b, gone, bound)] == [1, 0, 0, 1]
    assert device(state, bound)["last_refusal"].startswith("other_machine: ")
    for refused in (gone, bound):
        row = device(state, refused)
        assert (row["reports_received"], row["last_seen_at"]) == (0, None)
        assert rule_states(state, refused) == {}
    assert device(state, gone)["state"] == "revoked"
    assert device(state, a)["reports_received"] == 1


def test_a_body_error_is_answered_only_to_an_authenticated_device(state: CollectorState) -> None:
    a, b, gone = add_device(state), add_device(state), add_device(state, revoked=True)
    stranger = Dev(str(uuid.uuid4()), "osd_never-issued")
    broken = Refused(RefusalKind.SCHEMA, "report does not match schema version 1", ())
    rb = report(state, b)
    items = [sub(a, None, broken), sub(stranger, None, broken), sub(None, None, broken)]
    items += [sub(gone, None, broken), sub(b, rb)]
    r = refusals
    assert ingest(state, *items) == [broken, r.UNKNOWN_SECRET, r.NO_SECRET, r.REVOKED, NEW]
    assert stored_reports(state) == {rb["report_id"]: b.id}
    assert (device(state, a)["reports_received"], device(state, a)["last_seen_at"]) == (0, None)
    # Counted on the device it came from, with the reason; a refusal that names no device of
    # its own (no secret, unknown, revoked) is counted on none.
    assert (device(state, a)["reports_refused"], device(state, a)["last_refusal"]) == (
        1,
        "schema: report does not match schema version 1",
    )
    assert device(state, a)["last_refused_at"] is not None
    assert [device(state, d)["reports_refused"] for d in (b, gone)] == [0, 0]


@pytest.mark.parametrize("order", ["newer then older", "older then newer", "two batches"])
def test_the_device_follows_the_report_received_last_whatever_its_collected_at(
    state: CollectorState, order: str
) -> None:
    """Arrival order, not the device's clock: a clock set back must not hide what its report
    says. Both reports stay in the history."""
    a, now = add_device(state), utcnow()
    newer = report(state, a, pending=0, collected=now - timedelta(minutes=1))
    older = report(state, a, pending=250, collected=now - timedelta(hours=5))
    first, last = (older, newer) if order == "older then newer" else (newer, older)
    if order == "two batches":
        answers = [*ingest(state, sub(a, first), now=now), *ingest(state, sub(a, last), now=now)]
    else:
        answers = ingest(state, sub(a, first), sub(a, last), now=now)
    patched = Accepted(False, "non_compliant", ["PATCH-002", "ADM-003"])
    assert answers == ([patched, NEW] if last is newer else [NEW, patched])
    assert stored_reports(state) == {newer["report_id"]: a.id, older["report_id"]: a.id}
    row = device(state, a)
    assert row["reports_received"] == 2
    assert (row["last_report_id"], row["last_collected_at"]) == (
        last["report_id"],
        last["collected_at"],
    )
    assert (row["state"], row["failing_rules"]) == (
        ("compliant", []) if last is newer else ("non_compliant", ["PATCH-002", "ADM-003"])
    )
    assert rule_states(state, a)["PATCH-002"]["status"] == ("pass" if last is newer else "fail")
    from_older = [e for e in events(state, a) if e[4] == older["report_id"]]
    old_status = None if first is older else "pass"
    assert ("rule", "PATCH-002", old_status, "fail", older["report_id"]) in from_older


def test_a_rule_change_records_one_rule_event_and_one_state_event(state: CollectorState) -> None:
    a, now = add_device(state), utcnow()
    ingest(state, sub(a, report(state, a, pending=0, collected=now)), now=now)
    before = events(state, a)
    flipped = report(state, a, pending=250, collected=now)
    failing = Accepted(False, "non_compliant", ["PATCH-002"])
    assert ingest(state, sub(a, flipped), now=now) == [failing]
    rid = flipped["report_id"]
    assert events(state, a)[len(before) :] == [
        ("rule", "PATCH-002", "pass", "fail", rid),
        ("state", None, "compliant", "non_compliant", rid),
    ]
    row = device(state, a)
    assert (row["state"], row["failing_rules"]) == ("non_compliant", ["PATCH-002"])
    rule = rule_states(state, a)["PATCH-002"]
    assert rule["status"] == "fail" and "250" in " ".join(rule["evidence"])


def resend(
    state: CollectorState, dev: Dev, first: dict[str, Any], when: datetime
) -> dict[str, Any]:
    """The same facts as `first` (no update installed since), collected at `when`."""
    again = report(state, dev, collected=when)
    last_update = first["probes"]["patch_level"]["data"]["last_update_at"]
    again["probes"]["patch_level"]["data"]["last_update_at"] = last_update
    return again


def test_an_unchanged_resend_writes_no_events_and_no_rule_rows(state: CollectorState) -> None:
    # Fifteen minutes apart, as agents report: ADM-002's evidence (the arrival) names the day,
    # not the minute, so an unchanged laptop keeps its digest.
    a, now = add_device(state), utcnow().replace(hour=10, minute=0)
    later = now + timedelta(minutes=15)
    first = report(state, a, collected=now)
    ingest(state, sub(a, first), now=now)
    rules, history, digest = rule_states(state, a), events(state, a), device(state, a)
    again = resend(state, a, first, later)
    assert ingest(state, sub(a, again), now=later) == [NEW]
    assert (rule_states(state, a), events(state, a)) == (rules, history)
    row = device(state, a)
    assert (row["rules_digest"], row["reports_received"]) == (digest["rules_digest"], 2)
    assert row["last_report_id"] == again["report_id"]
    # The digest is what spares the rows: one changed behind ingest's back is not compared.
    execute(state, change_rule(a, "PATCH-002", evidence=["changed behind ingest"]))
    ingest(state, sub(a, resend(state, a, first, later)), now=later)
    assert rule_states(state, a)["PATCH-002"]["evidence"] == ["changed behind ingest"]


@pytest.mark.parametrize("how", ["sweeper", "sql"])
def test_after_the_digest_is_cleared_the_next_report_repairs_the_rows(
    state: CollectorState, how: str
) -> None:
    a, now = add_device(state), utcnow()
    ingest(state, sub(a, report(state, a, collected=now)), now=now)
    rules = rule_states(state, a)
    if how == "sweeper":
        long_ago = now - timedelta(days=3)
        execute(state, update(Device).where(Device.id == a.id).values(last_seen_at=long_ago))
        hours = int(state.served_policy.policy.values["reporting"]["stale_after_hours"])
        assert sweep(state.engine, timedelta(hours=hours), now) == 1
        assert device(state, a)["state"] == "stale"
    else:
        execute(
            state,
            update(Device).where(Device.id == a.id).values(rules_digest=None),
            change_rule(a, "ADM-002", status="fail", evidence=["tampered"]),
        )
    assert device(state, a)["rules_digest"] is None
    assert rule_states(state, a)["ADM-002"]["status"] == "fail"
    repair = report(state, a, collected=now)
    assert ingest(state, sub(a, repair), now=now) == [NEW]
    repaired = rule_states(state, a)
    assert repaired.keys() == rules.keys()
    for rule_id, rule in rules.items():
        assert {**repaired[rule_id], "changed_at": 0} == {**rule, "changed_at": 0}, rule_id
    assert ("rule", "ADM-002", "fail", "pass", repair["report_id"]) in events(state, a)
    row = device(state, a)
    assert (row["state"], row["failing_rules"]) == ("compliant", [])
    assert row["rules_digest"] is not None


@pytest.mark.parametrize("fault", ["unreachable", "locked"])
def test_store_batch_answers_503_to_each_report_when_the_database_refuses(
    tmp_path: Path, fault: str
) -> None:
    path = tmp_path / "c.db"
    settings = Settings(data_dir=tmp_path, database_url=f"sqlite:///{path}")
    app = create_app(settings, run_sweeper=False)
    state: CollectorState = app.state.collector
    devs = [add_device(state) for _ in range(3)]
    batch = [IncomingReport(d.secret, orjson.dumps(report(state, d)), None, IP) for d in devs]
    target = path if fault == "locked" else tmp_path / "missing" / "c.db"
    engine = create_engine(f"sqlite:///{target}", connect_args={"timeout": 0.2})
    evaluator, limit = state.served_policy.evaluator, state.settings.max_body_bytes
    writer = ReportWriter(engine, state.validator, evaluator, limit)
    holder = sqlite3.connect(path)
    if fault == "locked":
        holder.execute("BEGIN EXCLUSIVE")  # another writer holds the database
    try:
        answers = writer.store_batch(batch)
    finally:
        holder.rollback()
        holder.close()
    assert len(answers) == 3
    for answer in answers:
        assert isinstance(answer, Refused) and status_of(answer.kind) == 503, answer
        assert ANSWERS[answer.kind][1] == {"Retry-After": "30"}
    assert stored_reports(state) == {}
    assert [device(state, d)["reports_received"] for d in devs] == [0, 0, 0]
    if fault == "locked":  # the lock gone, the same batch is stored
        assert writer.store_batch(batch) == [NEW, NEW, NEW]
        assert len(stored_reports(state)) == 3
    engine.dispose()
    state.engine.dispose()
