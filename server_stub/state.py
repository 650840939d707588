"""What a running collector holds: settings, database, policy, schema validator, counters."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from importlib import resources
from typing import TYPE_CHECKING, Any

import jsonschema_rs
from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from agent.policy import Evaluator, Policy, load_policy_file, parse_policy
from agent.policy.loader import default_policy_text
from server_stub.config import Settings
from server_stub.evaluation import collector_evaluator

if TYPE_CHECKING:
    from server_stub.group_commit import GroupCommit
    from server_stub.reports import IncomingReport
    from server_stub.storage.ingest import Accepted, Refusal

# jsonschema-rs checks a report in ~10 us where the pure-Python validator takes ~1.2 ms: at
# hundreds of reports per second that is most of a core.
ReportValidator = Any


@dataclass(frozen=True)
class ServedPolicy:
    """The organisation's policy, its text as served to agents, and that text's ETag."""

    policy: Policy
    text: str
    etag: str
    evaluator: Evaluator  # the policy compiled for evaluating reports


def load_served_policy(path: str | None) -> ServedPolicy:
    if path is None:
        text = default_policy_text()
        policy = parse_policy(text, source="default policy pack")
    else:
        policy = load_policy_file(path)
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    etag = '"' + hashlib.sha256(text.encode()).hexdigest()[:32] + '"'
    return ServedPolicy(policy, text, etag, collector_evaluator(policy))


def _load_report_schema() -> dict[str, Any]:
    text = resources.files("agent").joinpath("report.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


# The report's JSON Schema, also shown as the request body in the OpenAPI description.
REPORT_SCHEMA = {k: v for k, v in _load_report_schema().items() if k not in ("$schema", "$id")}


def report_validator() -> ReportValidator:
    return jsonschema_rs.Draft202012Validator(_load_report_schema())


@dataclass
class CollectorState:
    """Attached to app.state.collector; one per process."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Any]
    served_policy: ServedPolicy
    validator: ReportValidator
    ingest: GroupCommit[IncomingReport, Accepted | Refusal]
    counters: Counter[str] = field(default_factory=Counter)
