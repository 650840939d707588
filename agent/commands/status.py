"""`agent status`: enrolment, the last exchange with the collector, the spool, the policy."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from typing import Any

from agent.config import AgentConfig
from agent.delivery.enrolment import NotEnrolled, load_enrolment
from agent.delivery.last_exchange import LastExchange, load_exchange
from agent.delivery.local_error import write_problem
from agent.delivery.policy_cache import cached_etag, choose_policy
from agent.delivery.send import spool_for
from agent.policy import PolicyError


def status(args: argparse.Namespace, config: AgentConfig) -> int:
    try:
        enrolment = load_enrolment(config.state_dir)
    except NotEnrolled:
        enrolment = None
    exchange = load_exchange(config.state_dir)
    spool = spool_for(config, prepare=False)  # looks only: works on a full or read-only disk
    counters = spool.counters()
    problem = write_problem(config.state_dir, spool.folder)
    result: dict[str, Any] = {
        "enrolled": enrolment is not None,
        "device_id": enrolment.device_id if enrolment else None,
        "server": enrolment.server if enrolment else None,
        "last_success_at": exchange.last_success_at,
        "last_error": exchange.last_error,
        "retry_not_before": exchange.retry_not_before,
        "spool": {
            "depth": spool.depth,
            "dropped": counters.dropped,
            "rejected": counters.rejected,
            "quarantined": counters.quarantined,
            "last_rejected": asdict(counters.last_rejected) if counters.last_rejected else None,
            # A report that cannot be written (disk full...): recorded when it happened (`at`),
            # or seen now in the free space when even the record could not be written.
            "write_error": asdict(problem) if problem else None,
        },
        "collector_verdict": (
            {
                "state": exchange.collector_state,
                "failing_rules": exchange.collector_failing or [],
                "at": exchange.collector_state_at,
                "rule_notes": exchange.notes(),
            }
            if exchange.collector_state
            else None
        ),
        "policy_etag": cached_etag(config),
        "secret_store": enrolment.secret_store.split(":", 1)[0] if enrolment else None,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(render_text(result, _policy_name(config), exchange))
    return 0


def _policy_name(config: AgentConfig) -> str:
    """Which policy a self-check uses now, by name (the etag says only which version)."""
    try:
        policy = choose_policy(None, config)
    except PolicyError as exc:
        return f"the cached policy is unreadable ({exc}); the built-in pack is used"
    return f"{policy.organisation_name} ({policy.source})"


def render_text(result: dict[str, Any], policy: str, exchange: LastExchange) -> str:
    """The status in words a person reads; `--json` keeps the machine's shape."""
    lines = []
    if result["enrolled"]:
        lines.append(_line("enrolled", f"yes, device {result['device_id']} at {result['server']}"))
    else:
        lines.append(_line("enrolled", "no: run `agent enroll --server URL --token TOKEN`"))
    lines.append(_line("last success", result["last_success_at"] or "never"))
    lines.append(_line("last error", result["last_error"] or "none"))
    verdict = exchange.verdict_text()
    said = f"{verdict} (on the report accepted {exchange.collector_state_at})" if verdict else None
    lines.append(_line("collector says", said or "nothing yet (no report accepted)"))
    if result["retry_not_before"]:
        lines.append(
            _line("next try", f"not before {result['retry_not_before']} (asked by the collector)")
        )
    lines += _spool_lines(result["spool"])
    version = f", version {result['policy_etag']}" if result["policy_etag"] else ""
    lines.append(_line("policy", f"{policy}{version}"))
    stores = {"keyring": "the OS keyring", "file": "a private file (no keyring available)"}
    store = result["secret_store"]
    lines.append(_line("secret kept in", stores.get(store, store) if store else "nowhere yet"))
    return "\n".join(lines)


def _spool_lines(spool: dict[str, Any]) -> list[str]:
    waiting = spool["depth"]
    text = f"{waiting} report{'' if waiting == 1 else 's'} waiting to be sent"
    if spool["dropped"]:
        text += f"; {spool['dropped']} dropped (spool full, oldest first)"
    if spool["rejected"]:
        text += f"; {spool['rejected']} refused by the collector for good (kept in rejected/)"
    if spool["quarantined"]:
        text += f"; {spool['quarantined']} unreadable (kept in quarantine/)"
    lines = [_line("spool", text)]
    last = spool["last_rejected"]
    if last:
        lines.append(
            _line("last refused", f"{last['at']} report {last['report_id']}: {last['reason']}")
        )
    problem = spool["write_error"]
    if problem:
        when = f" (since {problem['at']})" if problem["at"] else ""
        lines.append(_line("spool error", f"cannot write: {problem['error']}{when}"))
    return lines


def _line(label: str, value: object) -> str:
    return f"{label:16} {value}"
