"""The organisation's policy: its text as served to agents, its ETag, and its compiled form."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from agent.policy import Evaluator, Policy, load_policy_file, parse_policy
from agent.policy.loader import default_policy_text
from server_stub.ingest.evaluation import collector_evaluator
from server_stub.ingest.grace import grace_periods


@dataclass(frozen=True)
class ServedPolicy:
    """The organisation's policy, its text as served to agents, and that text's ETag."""

    policy: Policy
    text: str
    etag: str
    evaluator: Evaluator  # the policy compiled for evaluating reports
    grace: dict[str, timedelta]  # rule id -> its grace period, for the rules with one

    @property
    def stale_after_hours(self) -> int:
        return int(self.policy.values["reporting"]["stale_after_hours"])


def load_served_policy(path: str | None) -> ServedPolicy:
    if path is None:
        text = default_policy_text()
        policy = parse_policy(text, source="default policy pack")
    else:
        policy = load_policy_file(path)
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    etag = '"' + hashlib.sha256(text.encode()).hexdigest()[:32] + '"'
    return ServedPolicy(policy, text, etag, collector_evaluator(policy), grace_periods(policy))
