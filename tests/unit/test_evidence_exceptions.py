"""Exceptions in the audit evidence: each one that held during the period is listed for its
device (a department's for each of its devices) with who granted it, from when until when (its
expiry or its revocation), the reason and the mitigation, on the page and in the CSV; one that
ended before the period or began after it is not."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from server_stub.storage.evidence import evidence
from server_stub.storage.tables import RuleException
from tests.unit.test_dashboard import Env, log_in, make_env
from tests.unit.test_evidence import DAY, RANGE, START, device


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    yield from make_env(tmp_path)


def granted(env: Env, rule_id: str, start: datetime, end: datetime, **target: str) -> None:
    revoked = target.pop("revoked", None)
    with env.state.sessions.begin() as session:
        session.add(
            RuleException(
                rule_id=rule_id, reason=f"reason for {rule_id}", mitigation="kept offline",
                granted_by="ada", granted_at=start, expires_at=end,
                revoked_by="bob" if revoked else None,
                revoked_at=start + DAY if revoked else None, **target,
            )
        )  # fmt: skip


def test_exceptions_that_held_in_the_period_are_evidence(env: Env) -> None:
    a = device(env, "laptop-a")
    device(env, "laptop-b")  # in department Press too
    granted(env, "PATCH-002", START - DAY, START + 2 * DAY, device_id=a)
    granted(env, "SEC-001", START + DAY, START + 30 * DAY, department="Press", revoked="yes")
    granted(env, "NET-001", START - 9 * DAY, START - DAY, device_id=a)  # over before
    granted(env, "NET-002", START + 5 * DAY, START + 9 * DAY, department="Press")  # after
    with env.state.sessions() as session:
        found = {d.name: d for d in evidence(session, START, START + 4 * DAY)}
    held = [
        (x.rule_id, x.scope, x.start, x.end, x.revoked_by) for x in found["laptop-a"].exceptions
    ]
    assert held == [
        ("PATCH-002", "device", START - DAY, START + 2 * DAY, None),
        ("SEC-001", "department", START + DAY, START + 2 * DAY, "bob"),
    ]
    assert [x.rule_id for x in found["laptop-b"].exceptions] == ["SEC-001"]

    log_in(env.client)
    page = env.client.get(f"/evidence?{RANGE}").text
    assert "Exceptions granted" in page and "reason for PATCH-002" in page
    assert "revoked by bob" in page and "NET-001" not in page
    rows = list(csv.DictReader(io.StringIO(env.client.get(f"/evidence.csv?{RANGE}").text)))
    listed = [(r["device"], r["exception_rule"], r["exception_for"], r["exception_until"])
              for r in rows if r["exception_rule"]]  # fmt: skip
    assert listed == [
        ("laptop-a", "PATCH-002", "device", "2026-03-03T00:00:00Z"),
        ("laptop-a", "SEC-001", "department", "2026-03-03T00:00:00Z"),
        ("laptop-b", "SEC-001", "department", "2026-03-03T00:00:00Z"),
    ]
    assert all(r["exception_granted_by"] == "ada" for r in rows if r["exception_rule"])
