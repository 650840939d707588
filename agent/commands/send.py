"""`agent send`: one report now, or only what the spool holds; says what the collector answered.

Exit codes:
    0  the new report was accepted, or is safely spooled to be sent later (the collector is
       unreachable, busy, or asked to wait). Older spooled reports the collector refused for
       good are set aside, counted and shown by `agent status`; they do not fail this report.
       With --flush-only: every spooled report was sent or refused for good, or the collector
       asked to wait.
    1  the collector refused this device (401/403) or the new report for good; not enrolled;
       the secret is missing. With --flush-only also: the collector could not be reached.
    4  the report could not be kept: the state directory cannot be written (disk full, quota,
       read-only, I/O error). `agent status` shows it until a later write succeeds. With
       --flush-only: the spool cannot be opened.
"""

from __future__ import annotations

import argparse
import sys

from agent.commands.machine import cache_basis, probes_for
from agent.config import AgentConfig
from agent.delivery.enrolment import NotEnrolled
from agent.delivery.policy_cache import choose_policy
from agent.delivery.secret_store import SecretMissing
from agent.delivery.send import FlushResult, NotAsked, NotSpooled, flush_spool, send_once
from agent.facts.context import Context
from agent.state_dir import StateWriteError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_CANNOT_SPOOL = 4


def send(args: argparse.Namespace, config: AgentConfig) -> int:
    """One report now. Collector down: spooled, exit 0 with a warning. Refused: exit 1."""
    try:
        if args.flush_only:
            return _flush_only(config)
        policy = choose_policy(args.policy, config)
        report_id, result = send_once(
            Context(),
            probes_for(config, policy),
            config,
            cache_basis(config, policy),
            reuse_within_s=args.reuse_within,
            ready=_told_to_go if args.after_go else lambda: True,
        )
    except NotAsked:
        return EXIT_OK
    except (NotSpooled, StateWriteError) as exc:
        print(f"agent: cannot spool the report: {exc}", file=sys.stderr)
        return EXIT_CANNOT_SPOOL
    except (NotEnrolled, SecretMissing, ValueError) as exc:
        print(f"agent: {exc}", file=sys.stderr)
        return EXIT_FAILED
    _warn_about_others(result, report_id)
    refused = dict(result.rejected).get(report_id)
    if refused is not None:
        print(
            f"agent: the collector refused report {report_id} for good: {refused}", file=sys.stderr
        )
        return EXIT_FAILED
    error = result.error
    if report_id not in result.sent_ids:
        if error is not None and error.status in (401, 403):
            print(f"agent: the collector refused this device: {error}", file=sys.stderr)
            return EXIT_FAILED
        if error is not None:
            why = str(error)
        elif result.not_before:
            why = f"the collector asked not to be sent anything before {result.not_before}"
        elif result.local_error is not None:
            why = "the spool could not be updated"
        else:
            why = "another agent process is sending the spool"
        print(
            f"agent: warning: {why}; report {report_id} is spooled "
            f"({result.remaining} waiting) and will be sent when the collector answers",
            file=sys.stderr,
        )
        return EXIT_OK
    answer = result.last_answer or {}
    failing = ", ".join(answer.get("failing_rules", [])) or "none"
    duplicate = " (already received)" if answer.get("duplicate") else ""
    state = answer.get("state")
    print(f"report {report_id} accepted{duplicate}: {state}; failing: {failing}")
    if result.sent > 1:
        print(f"also sent {result.sent - 1} spooled report(s)")
    return EXIT_OK


def _told_to_go() -> bool:
    """The service starts a report while the network settles, then writes `go` when it should
    collect, or closes the pipe when there is nothing to report."""
    return sys.stdin.readline().strip() == "go"


def _flush_only(config: AgentConfig) -> int:
    try:
        result = flush_spool(config)
    except StateWriteError as exc:
        print(f"agent: cannot open the spool: {exc}", file=sys.stderr)
        return EXIT_CANNOT_SPOOL
    _warn_about_others(result, None)
    print(f"sent {result.sent} spooled report(s); {result.remaining} waiting")
    if result.error is not None:
        print(f"agent: {result.error}", file=sys.stderr)
        return EXIT_FAILED
    if result.not_before:
        print(f"agent: the collector asked to wait until {result.not_before}", file=sys.stderr)
    return EXIT_OK


def _warn_about_others(result: FlushResult, report_id: str | None) -> None:
    """Spooled reports refused for good and state files not written: said, never hidden."""
    others = [(rid, reason) for rid, reason in result.rejected if rid != report_id]
    if others:
        print(
            f"agent: warning: the collector refused {len(others)} spooled report(s) for good; "
            f"set aside in the spool's rejected/ folder and counted in agent status "
            f"(last: report {others[-1][0]}, {others[-1][1]})",
            file=sys.stderr,
        )
    if result.local_error is not None:
        print(f"agent: warning: cannot write {result.local_error}", file=sys.stderr)
