"""`agent enroll`: a one-time token becomes a device id and secret, kept for later reports."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from agent.config import AgentConfig
from agent.delivery.enrolment import Enrolment, NotEnrolled, load_enrolment, save_enrolment
from agent.delivery.policy_cache import refresh_policy
from agent.delivery.secret_store import forget_secret, store_secret
from agent.delivery.transport import Collector, TransportError
from agent.facts.context import Context
from agent.facts.host import collect_host

EXIT_FAILED = 1


def enroll(
    ctx: Context, config: AgentConfig, server: str, token: str, ca_file: str | None
) -> Enrolment:
    """Enrol with the collector, keep the secret and the record, cache the policy."""
    if ca_file is not None and not Path(ca_file).is_file():
        raise ValueError(f"--ca-file {ca_file}: no such file")
    host = collect_host(ctx)
    answer = Collector(server, ca_file=ca_file).enroll(token, host.hostname, host.hardware_id_hash)
    device_id, secret = str(answer["device_id"]), str(answer["device_secret"])
    try:
        previous: Enrolment | None = load_enrolment(config.state_dir)
    except NotEnrolled:
        previous = None
    store = store_secret(config.state_dir, device_id, secret)
    enrolment = Enrolment(
        device_id=device_id,
        server=server.rstrip("/"),
        ca_file=str(Path(ca_file).resolve()) if ca_file else None,
        secret_store=store,
    )
    save_enrolment(config.state_dir, enrolment)
    if previous is not None and previous.secret_store != store:
        forget_secret(previous.secret_store, previous.device_id)
    refresh_policy(Collector(enrolment.server, ca_file=ca_file, secret=secret), config)
    return enrolment


def enroll_command(args: argparse.Namespace, config: AgentConfig) -> int:
    try:
        enrolment = enroll(Context(), config, args.server, args.token, args.ca_file)
    except (TransportError, ValueError) as exc:
        print(f"agent: enrolment failed: {exc}", file=sys.stderr)
        return EXIT_FAILED
    where = enrolment.secret_store.split(":", 1)[0]
    print(f"enrolled as device {enrolment.device_id}; secret stored in the {where}")
    return 0
