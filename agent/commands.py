"""What each `agent` command does, given its parsed arguments and the configuration."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from agent.catalogue import render_markdown
from agent.collect import collect_report
from agent.config import AgentConfig
from agent.context import Context
from agent.enrol import POLICY_ETAG_FILE, enroll
from agent.enrolment import NotEnrolled, load_enrolment
from agent.policy import Policy
from agent.policy_source import choose_policy
from agent.probes import PROBES
from agent.recorded import RecordingContext
from agent.scan_settings import scan_settings_for
from agent.secret_store import SecretMissing
from agent.selfcheck import render_json, render_text, run_self_check, wants_colour
from agent.send import flush_spool, send_once, spool_for
from agent.status import load_exchange
from agent.transport import TransportError

EXIT_FAILED = 1


def machine_context(config: AgentConfig, policy: Policy) -> Context:
    """The real machine, with what the credential scan looks for and its budgets."""
    return Context(scan=scan_settings_for(config, policy))


def self_check(args: argparse.Namespace, config: AgentConfig) -> int:
    policy = choose_policy(args.policy, config)
    result = run_self_check(machine_context(config, policy), config, policy)
    if args.json:
        sys.stdout.write(render_json(result))
    else:
        sys.stdout.write(render_text(result, colour=wants_colour(sys.stdout)))
    return result.exit_code


def facts(args: argparse.Namespace, config: AgentConfig) -> int:
    if args.markdown:
        print(render_markdown(PROBES), end="")
        return 0
    context = machine_context(config, choose_policy(args.policy, config))
    if args.record:
        recording = RecordingContext(scan=context.scan)
        collect_report(recording)
        Path(args.record).write_text(json.dumps(recording.recording, indent=1) + "\n")
        return 0
    print(json.dumps(collect_report(context).to_dict(), indent=2))
    return 0


def enroll_command(args: argparse.Namespace, config: AgentConfig) -> int:
    try:
        enrolment = enroll(Context(), config, args.server, args.token, args.ca_file)
    except (TransportError, ValueError) as exc:
        print(f"agent: enrolment failed: {exc}", file=sys.stderr)
        return EXIT_FAILED
    where = enrolment.secret_store.split(":", 1)[0]
    print(f"enrolled as device {enrolment.device_id}; secret stored in the {where}")
    return 0


def send(args: argparse.Namespace, config: AgentConfig) -> int:
    """One report now. Collector down: spooled, exit 0 with a warning. Refused: exit 1."""
    try:
        if args.flush_only:
            result = flush_spool(config)
            print(f"sent {result.sent} spooled report(s); {result.remaining} waiting")
            return 0 if result.error is None else EXIT_FAILED
        context = machine_context(config, choose_policy(args.policy, config))
        report_id, result = send_once(context, config)
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


def status(args: argparse.Namespace, config: AgentConfig) -> int:
    try:
        enrolment = load_enrolment(config.state_dir)
    except NotEnrolled:
        enrolment = None
    exchange = load_exchange(config.state_dir)
    spool = spool_for(config)
    etag_file = config.state_dir / POLICY_ETAG_FILE
    result: dict[str, Any] = {
        "enrolled": enrolment is not None,
        "device_id": enrolment.device_id if enrolment else None,
        "server": enrolment.server if enrolment else None,
        "last_success_at": exchange.last_success_at,
        "last_error": exchange.last_error,
        "spool": {"depth": spool.depth, "dropped": spool.dropped},
        "policy_etag": etag_file.read_text().strip() if etag_file.exists() else None,
        "secret_store": enrolment.secret_store.split(":", 1)[0] if enrolment else None,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    for key, value in result.items():
        shown = f"{value['depth']} waiting, {value['dropped']} dropped" if key == "spool" else value
        print(f"{key.replace('_', ' '):16} {'-' if shown is None else shown}")
    return 0
