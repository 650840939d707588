"""`agent status`: enrolment, the last exchange with the collector, the spool, the policy."""

from __future__ import annotations

import argparse
import json
from typing import Any

from agent.config import AgentConfig
from agent.delivery.enrolment import NotEnrolled, load_enrolment
from agent.delivery.last_exchange import load_exchange
from agent.delivery.policy_cache import cached_etag
from agent.delivery.send import spool_for


def status(args: argparse.Namespace, config: AgentConfig) -> int:
    try:
        enrolment = load_enrolment(config.state_dir)
    except NotEnrolled:
        enrolment = None
    exchange = load_exchange(config.state_dir)
    spool = spool_for(config)
    result: dict[str, Any] = {
        "enrolled": enrolment is not None,
        "device_id": enrolment.device_id if enrolment else None,
        "server": enrolment.server if enrolment else None,
        "last_success_at": exchange.last_success_at,
        "last_error": exchange.last_error,
        "spool": {"depth": spool.depth, "dropped": spool.dropped},
        "policy_etag": cached_etag(config),
        "secret_store": enrolment.secret_store.split(":", 1)[0] if enrolment else None,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    for key, value in result.items():
        shown = f"{value['depth']} waiting, {value['dropped']} dropped" if key == "spool" else value
        print(f"{key.replace('_', ' '):16} {'-' if shown is None else shown}")
    return 0
