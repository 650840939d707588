"""ReportWriter.store_batch, the ingest's runner: a report that breaks its own handling is
answered 500 alone while its batch is stored; times out of range are data, not crashes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
import pytest

from agent.policy import Evaluator, RuleResult, load_catalogue
from server_stub.api.outcomes import status_of
from server_stub.ingest.evaluation import SCOPES
from server_stub.ingest.outcomes import FAILED, Accepted, Refused
from server_stub.ingest.reading import IncomingReport
from server_stub.ingest.runner import ReportWriter
from server_stub.state import CollectorState
from tests.unit.test_ingest_batch import (
    IP,
    add_device,
    device,
    report,
    rule_states,
    stored_reports,
)
from tests.unit.test_ingest_batch import state as state  # the fixture, SQLite and PostgreSQL


class BreaksOnHost(Evaluator):
    """A real evaluator that fails, as a bug would, on one host's reports."""

    def evaluate(self, facts: dict[str, Any], now: datetime) -> list[RuleResult]:
        if facts["host"]["hostname"] == "breaks":
            raise RuntimeError("a fault in the collector")
        return super().evaluate(facts, now)


def writer(state: CollectorState, evaluator: Evaluator | None = None) -> ReportWriter:
    chosen = evaluator or state.served_policy.evaluator
    return ReportWriter(state.engine, state.validator, chosen, state.settings.max_body_bytes)


def incoming(secret: str, body: dict[str, Any]) -> IncomingReport:
    return IncomingReport(secret, orjson.dumps(body), None, IP)


def test_a_report_that_breaks_its_handling_fails_alone(
    state: CollectorState, caplog: pytest.LogCaptureFixture
) -> None:
    a, b, c = add_device(state), add_device(state), add_device(state)
    bad = report(state, b)
    bad["host"] = {**bad["host"], "hostname": "breaks"}
    good_a, good_c = report(state, a), report(state, c)
    policy = state.served_policy.policy
    answers = writer(state, BreaksOnHost(policy, load_catalogue(), SCOPES)).store_batch(
        [incoming(a.secret, good_a), incoming(b.secret, bad), incoming(c.secret, good_c)]
    )
    assert [type(x).__name__ for x in answers] == ["Accepted", "Refused", "Accepted"]
    assert answers[1] == FAILED
    assert set(stored_reports(state)) == {good_a["report_id"], good_c["report_id"]}
    assert device(state, b)["reports_received"] == 0
    assert "a fault in the collector" in caplog.text  # the traceback is in the log


def test_a_body_that_breaks_reading_fails_alone_after_authentication(
    state: CollectorState, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = add_device(state), add_device(state)
    chosen = writer(state)
    real_read = chosen.read

    def read(item: IncomingReport) -> Any:
        if item.secret == b.secret:
            raise RuntimeError("a fault in the collector")
        return real_read(item)

    monkeypatch.setattr(chosen, "read", read)
    good, bad = report(state, a), report(state, b)
    answers = chosen.store_batch([incoming(a.secret, good), incoming(b.secret, bad)])
    assert isinstance(answers[0], Accepted) and answers[1] == FAILED
    unknown = chosen.store_batch([IncomingReport("osd_unknown", b"{}", None, IP)])
    assert isinstance(unknown[0], Refused) and status_of(unknown[0].kind) == 401


def test_times_out_of_range_are_unknown_or_refused_not_crashes(state: CollectorState) -> None:
    """Before year 1 once in UTC: Python raises OverflowError, not ValueError."""
    a, b = add_device(state), add_device(state)
    odd_update = report(state, a)
    odd_update["probes"]["patch_level"]["data"]["last_update_at"] = "0001-01-01T00:30:00+01:00"
    odd_collected = {**report(state, b), "collected_at": "0001-01-01T00:30:00+01:00"}
    answers = writer(state).store_batch(
        [incoming(a.secret, odd_update), incoming(b.secret, odd_collected)]
    )
    assert isinstance(answers[0], Accepted)
    assert rule_states(state, a)["PATCH-001"]["status"] == "unknown"
    assert isinstance(answers[1], Refused) and status_of(answers[1].kind) == 422
    assert "collected_at" in answers[1].message
