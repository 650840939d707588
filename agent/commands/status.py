"""`agent status`: enrolment, the last exchange with the collector, the spool, the policy."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from typing import Any

from agent.config import AgentConfig
from agent.delivery.enrolment import NotEnrolled, load_enrolment
from agent.delivery.last_exchange import load_exchange
from agent.delivery.local_error import write_problem
from agent.delivery.policy_cache import cached_etag
from agent.delivery.send import spool_for


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
        "policy_etag": cached_etag(config),
        "secret_store": enrolment.secret_store.split(":", 1)[0] if enrolment else None,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    for key, value in result.items():
        if key == "spool":
            _print_spool(value)
        else:
            _line(key.replace("_", " "), value)
    return 0


def _print_spool(spool: dict[str, Any]) -> None:
    _line(
        "spool",
        f"{spool['depth']} waiting, {spool['dropped']} dropped, {spool['rejected']} rejected",
    )
    last = spool["last_rejected"]
    if last:
        _line("last rejected", f"{last['at']} report {last['report_id']}: {last['reason']}")
    problem = spool["write_error"]
    if problem:
        when = f" (since {problem['at']})" if problem["at"] else ""
        _line("spool error", f"cannot write: {problem['error']}{when}")


def _line(label: str, value: object) -> None:
    print(f"{label:16} {'-' if value is None else value}")
