"""`agent enroll`: one-time token -> device id + secret; the enrolment record and policy cache."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from agent.atomic import write_private
from agent.config import AgentConfig
from agent.context import Context
from agent.enrolment import RECORD_FILE, Enrolment, NotEnrolled, load_enrolment
from agent.host import collect_host
from agent.policy import parse_policy
from agent.secret_store import forget_secret, load_secret, store_secret
from agent.transport import Collector

POLICY_ETAG_FILE = "policy.etag"


def collector_for(enrolment: Enrolment) -> Collector:
    """A client for the collector this device enrolled with, carrying its secret."""
    secret = load_secret(enrolment.secret_store, enrolment.device_id)
    return Collector(enrolment.server, ca_file=enrolment.ca_file, secret=secret)


def refresh_policy(collector: Collector, config: AgentConfig) -> bool:
    """Cache the organisation's policy for offline self-checks; True when it changed."""
    etag_file = config.state_dir / POLICY_ETAG_FILE
    etag = etag_file.read_text().strip() if etag_file.exists() else None
    text, new_etag = collector.fetch_policy(etag)
    if text is None:
        return False
    parse_policy(text, source="policy from the collector")  # never cache a policy we can't use
    write_private(config.cached_policy_file, text)
    write_private(etag_file, new_etag or "")
    return True


def enroll(
    ctx: Context, config: AgentConfig, server: str, token: str, ca_file: str | None
) -> Enrolment:
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
    write_private(config.state_dir / RECORD_FILE, json.dumps(asdict(enrolment), indent=2))
    if previous is not None and previous.secret_store != store:
        forget_secret(previous.secret_store, previous.device_id)
    refresh_policy(Collector(enrolment.server, ca_file=ca_file, secret=secret), config)
    return enrolment
