"""The collector's notes on failing rules it does not count reach the laptop: the answer's
rule_notes are kept in the status file (anything malformed dropped), put into words by
LastExchange.verdict_text, and shown by the self-check under the failing rule with its Fix."""

from __future__ import annotations

import dataclasses
from typing import Any

from agent.commands.self_check import _allowance
from agent.delivery.last_exchange import LastExchange
from agent.delivery.send import _verdict

# An answer of the collector (server_stub/api/agents.py) to a report with PATCH-001 failing
# within its grace and SEC-002 failing under an exception.
ANSWER: dict[str, Any] = {
    "accepted": True,
    "duplicate": False,
    "state": "compliant",
    "failing_rules": [],
    "rule_notes": {
        "PATCH-001": {"status": "due", "until": "2026-12-08T10:00:00Z"},
        "SEC-002": {"status": "excepted", "until": "2026-12-31T00:00:00Z", "by": "ada"},
    },
    "policy_etag": '"abc"',
}


def test_notes_are_kept_and_put_into_words() -> None:
    exchange = LastExchange(**_verdict(ANSWER, 0.0))
    assert exchange.verdict_text() == (
        "compliant; PATCH-001 failing, due by 2026-12-08T10:00:00Z; "
        "SEC-002 excepted by ada until 2026-12-31T00:00:00Z"
    )
    plain = {**ANSWER, "state": "non_compliant", "failing_rules": ["NET-008"], "rule_notes": {}}
    failing = LastExchange(**_verdict(plain, 0.0))
    assert failing.verdict_text() == "non-compliant; failing NET-008"


def test_a_malformed_or_missing_note_is_dropped() -> None:
    odd = {**ANSWER, "rule_notes": {"PATCH-001": "due", "SEC-002": {"status": "excepted"}}}
    assert _verdict(odd, 0.0)["collector_notes"] == {"SEC-002": {"status": "excepted"}}
    assert _verdict({**ANSWER, "rule_notes": ["x"]}, 0.0)["collector_notes"] == {}
    older = {k: v for k, v in ANSWER.items() if k != "rule_notes"}  # a collector before grace
    assert LastExchange(**_verdict(older, 0.0)).verdict_text() == "compliant"


@dataclasses.dataclass
class _Found:
    notes: dict[str, dict[str, str]]
    grace_hours: dict[str, int]


def test_the_self_check_says_what_the_collector_allows_a_failing_rule() -> None:
    found: Any = _Found(LastExchange(**_verdict(ANSWER, 0.0)).notes(), {"PATCH-001": 72})
    assert _allowance(found, "PATCH-001") == (
        "The collector: failing, due by 2026-12-08T10:00:00Z."
    )
    assert _allowance(found, "SEC-002") == (
        "The collector: excepted by ada until 2026-12-31T00:00:00Z."
    )
    found.notes = {}
    assert _allowance(found, "PATCH-001") == (
        "Grace period: 72 h from the collector's first report of it failing."
    )
    assert _allowance(found, "NET-001") is None
