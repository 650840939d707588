"""The `agent` command line: argument parsing only; each command is a function elsewhere."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable

from agent import __version__
from agent.config import AgentConfig, ConfigError, load_config
from agent.policy import PolicyError

EXIT_USAGE = 2
Handler = Callable[[argparse.Namespace, AgentConfig], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="agent", description="Outpost agent: is this device fit to be a dedicated device?"
    )
    parser.add_argument("--version", action="version", version=f"outpost agent {__version__}")
    parser.add_argument(
        "--self-check", action="store_true", help="check this device now and say what to fix"
    )
    parser.add_argument("--json", action="store_true", help="print JSON (self-check, status)")
    parser.add_argument("--policy", metavar="FILE", help="policy (default: cached, else built-in)")
    parser.add_argument("--config", metavar="FILE", help="agent configuration file")
    parser.add_argument("--state-dir", metavar="DIR", help="where the agent keeps its state")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    facts = sub.add_parser("facts", help="collect and print facts; send nothing")
    shape = facts.add_mutually_exclusive_group()
    shape.add_argument("--json", dest="facts_json", action="store_true", help="one report")
    shape.add_argument("--markdown", action="store_true", help="the probe catalogue")
    shape.add_argument("--record", metavar="FILE", help="save what the machine answered")
    enroll = sub.add_parser("enroll", help="enrol this device with a one-time token")
    enroll.add_argument("--server", required=True, help="collector URL (https://...)")
    enroll.add_argument("--token", required=True, help="one-time enrolment token")
    enroll.add_argument("--ca-file", metavar="PEM", help="pin the collector's CA certificate")
    send = sub.add_parser(
        "send",
        help="collect and send one report now (spooled if unreachable)",
        epilog=(
            "exit 0: the report was accepted or is safely spooled; 1: the collector refused "
            "this device or this report, or not enrolled; 4: the report could not be kept "
            "(disk full, read-only state directory)"
        ),
    )
    send.add_argument("--flush-only", action="store_true", help="only send what is spooled")
    send.add_argument(
        "--reuse-within",
        type=float,
        metavar="SECONDS",
        help="take the slow probes that do not depend on the network (patch level, credential "
        "scan) from the last collection when it is at most SECONDS old (the service, on a "
        "network change)",
    )
    # The service's own: start, prepare, then wait for `go` on stdin before collecting.
    send.add_argument("--after-go", action="store_true", help=argparse.SUPPRESS)
    run = sub.add_parser("run", help="the background service: scheduled and on-change reports")
    run.add_argument(
        "--interval", type=float, metavar="SECONDS", help="report interval (default: policy)"
    )
    run.add_argument("--log-file", metavar="FILE", help="log here, rotated (default: see docs)")
    status = sub.add_parser("status", help="enrolment, last report, spool, policy")
    status.add_argument("--json", dest="status_json", action="store_true", help="print JSON")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.ERROR,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if getattr(args, "status_json", False):
        args.json = True
    env = {**os.environ, "OUTPOST_STATE_DIR": args.state_dir} if args.state_dir else None
    command = "self-check" if args.self_check else args.command
    try:
        config = load_config(args.config, env)
        handler = _handler(command)
        if handler is not None:
            return handler(args, config)
    except (ConfigError, PolicyError) as exc:
        print(f"agent: {exc}", file=sys.stderr)
        return EXIT_USAGE
    parser.print_help(sys.stderr)
    return EXIT_USAGE


def _handler(command: str | None) -> Handler | None:
    """The function of one command, importing only its own module: the service does not load
    the probes and the rule engine (its child processes do, per report), and a self-check of
    a device that is not enrolled does not load requests (16 MB of its peak)."""
    if command == "run":
        from agent.service.run import run_service

        return run_service
    if command == "self-check":
        from agent.commands.self_check import self_check

        return self_check
    if command == "facts":
        from agent.commands.facts import facts

        return facts
    if command == "enroll":
        from agent.commands.enroll import enroll_command

        return enroll_command
    if command == "send":
        from agent.commands.send import send

        return send
    if command == "status":
        from agent.commands.status import status

        return status
    return None


if __name__ == "__main__":
    sys.exit(main())
