"""The `agent` command line: argument parsing only; each command is a function elsewhere."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from agent import __version__
from agent.catalogue import render_markdown
from agent.collect import collect_report
from agent.config import AgentConfig, ConfigError, load_config
from agent.context import Context
from agent.enrol import NotEnrolled, enroll
from agent.policy import Policy, PolicyError, default_policy, load_policy_file
from agent.probes import PROBES
from agent.recorded import RecordingContext
from agent.scan_settings import scan_settings_for
from agent.secret_store import SecretMissing
from agent.selfcheck import render_json, render_text, run_self_check, wants_colour
from agent.send import send_once
from agent.transport import TransportError

EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="agent", description="Outpost agent: is this device fit to be a dedicated device?"
    )
    parser.add_argument("--version", action="version", version=f"outpost agent {__version__}")
    parser.add_argument(
        "--self-check", action="store_true", help="check this device now and say what to fix"
    )
    parser.add_argument("--json", action="store_true", help="with --self-check: print JSON")
    parser.add_argument(
        "--policy", metavar="FILE", help="policy file (default: cached, else built-in)"
    )
    parser.add_argument("--config", metavar="FILE", help="agent configuration file")
    parser.add_argument("--state-dir", metavar="DIR", help="where the agent keeps its state")
    parser.add_argument("-v", "--verbose", action="store_true", help="log probe progress")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    facts = commands.add_parser("facts", help="collect and print facts; send nothing")
    shape = facts.add_mutually_exclusive_group()
    shape.add_argument("--json", dest="facts_json", action="store_true", help="one report")
    shape.add_argument("--markdown", action="store_true", help="the probe catalogue")
    shape.add_argument("--record", metavar="FILE", help="save what the machine answered")
    enroll = commands.add_parser("enroll", help="enrol this device with a one-time token")
    enroll.add_argument("--server", required=True, help="collector URL (https://...)")
    enroll.add_argument("--token", required=True, help="one-time enrolment token")
    enroll.add_argument("--ca-file", metavar="PEM", help="pin the collector's CA certificate")
    commands.add_parser("send", help="collect and send one report now")
    return parser


def choose_policy(explicit: str | None, config: AgentConfig) -> Policy:
    """--policy, else the policy cached from the collector, else the built-in pack."""
    if explicit:
        return load_policy_file(explicit)
    if config.cached_policy_file.exists():
        return load_policy_file(str(config.cached_policy_file))
    return default_policy()


def machine_context(config: AgentConfig, policy: Policy) -> Context:
    """The real machine, with what the credential scan looks for and its budgets."""
    return Context(scan=scan_settings_for(config, policy))


def _facts(args: argparse.Namespace, config: AgentConfig) -> int:
    if args.markdown:
        print(render_markdown(PROBES), end="")
        return 0
    policy = choose_policy(args.policy, config)
    if args.record:
        recording_ctx = RecordingContext(scan=machine_context(config, policy).scan)
        collect_report(recording_ctx)
        Path(args.record).write_text(json.dumps(recording_ctx.recording, indent=1) + "\n")
        return 0
    print(json.dumps(collect_report(machine_context(config, policy)).to_dict(), indent=2))
    return 0


def _wire(args: argparse.Namespace, config: AgentConfig) -> int:
    """enroll and send: talk to the collector; failures are one clear line, never a traceback."""
    try:
        if args.command == "enroll":
            enrolment = enroll(Context(), config, args.server, args.token, args.ca_file)
            where = enrolment.secret_store.split(":", 1)[0]
            print(f"enrolled as device {enrolment.device_id}; secret stored in the {where}")
            return 0
        result = send_once(machine_context(config, choose_policy(None, config)), config)
    except (TransportError, NotEnrolled, SecretMissing, ValueError) as exc:
        print(f"agent: {exc}", file=sys.stderr)
        return 1
    answer = result.answer
    failing = ", ".join(answer.get("failing_rules", [])) or "none"
    duplicate = " (already received)" if answer.get("duplicate") else ""
    print(
        f"report {result.report_id} accepted{duplicate}: {answer.get('state')}; failing: {failing}"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.ERROR,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    env = {**os.environ, "OUTPOST_STATE_DIR": args.state_dir} if args.state_dir else None
    try:
        config = load_config(args.config, env)
        if args.self_check:
            policy = choose_policy(args.policy, config)
            result = run_self_check(machine_context(config, policy), config, policy)
            if args.json:
                sys.stdout.write(render_json(result))
            else:
                sys.stdout.write(render_text(result, colour=wants_colour(sys.stdout)))
            return result.exit_code
    except (ConfigError, PolicyError) as exc:
        print(f"agent: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.command == "facts":
        try:
            return _facts(args, config)
        except PolicyError as exc:
            print(f"agent: {exc}", file=sys.stderr)
            return EXIT_USAGE
    if args.command in ("enroll", "send"):
        return _wire(args, config)
    parser.print_help(sys.stderr)
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
