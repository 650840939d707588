"""`agent send`: one report now, or only what the spool holds; says what the collector answered."""

from __future__ import annotations

import argparse
import sys

from agent.commands.machine import probes_for
from agent.config import AgentConfig
from agent.delivery.enrolment import NotEnrolled
from agent.delivery.policy_cache import choose_policy
from agent.delivery.secret_store import SecretMissing
from agent.delivery.send import flush_spool, send_once
from agent.facts.context import Context

EXIT_FAILED = 1


def send(args: argparse.Namespace, config: AgentConfig) -> int:
    """One report now. Collector down: spooled, exit 0 with a warning. Refused: exit 1."""
    try:
        if args.flush_only:
            result = flush_spool(config)
            print(f"sent {result.sent} spooled report(s); {result.remaining} waiting")
            return 0 if result.error is None else EXIT_FAILED
        probes = probes_for(config, choose_policy(args.policy, config))
        report_id, result = send_once(Context(), probes, config)
    except (NotEnrolled, SecretMissing, ValueError) as exc:
        print(f"agent: {exc}", file=sys.stderr)
        return EXIT_FAILED
    error = result.error
    if error is not None and (error.status in (401, 403) or error.permanent):
        print(f"agent: the collector refused the report: {error}", file=sys.stderr)
        return EXIT_FAILED
    if error is not None:
        print(
            f"agent: warning: {error}; report {report_id} is spooled "
            f"({result.remaining} waiting) and will be sent when the collector answers",
            file=sys.stderr,
        )
        return 0
    answer = result.last_answer or {}
    failing = ", ".join(answer.get("failing_rules", [])) or "none"
    duplicate = " (already received)" if answer.get("duplicate") else ""
    state = answer.get("state")
    print(f"report {report_id} accepted{duplicate}: {state}; failing: {failing}")
    if result.sent > 1:
        print(f"also sent {result.sent - 1} spooled report(s)")
    return 0
