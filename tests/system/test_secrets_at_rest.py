"""Secrets at rest: the collector's database holds no secret in plaintext; the agent's state
directory is private (files 0600, folders 0700)."""

from __future__ import annotations

import json
import stat
import uuid
from pathlib import Path

import pytest

from tests.system.conftest import Collector, Registration, StartCollector, run_agent

pytestmark = pytest.mark.system

ADMIN_PASSWORD = "a long admin passphrase"


def everything_stored(collector: Collector) -> bytes:
    """Every row of every table as text; on SQLite also the database and WAL files' bytes."""
    rows = {table: collector.rows(table) for table in collector.row_counts()}
    blob = json.dumps(rows, default=str).encode()
    if collector.database_url is None:
        for path in collector.data_dir.glob("collector.db*"):
            blob += path.read_bytes()
    return blob


def test_the_database_holds_no_secret_in_plaintext(collector: Collector, tmp_path: Path) -> None:
    registration: Registration = collector.register_cli()
    device = collector.enrol(tmp_path / "agent", registration)
    sent = run_agent(device.state_dir, "send")
    assert sent.returncode == 0, sent.stderr
    unused = collector.register_cli()  # an enrolment token that is never used
    name = f"admin-{uuid.uuid4().hex[:8]}"
    made = collector.cli("admin", "create", name, "--password-stdin", stdin=ADMIN_PASSWORD + "\n")
    assert made.returncode == 0, made.stderr
    stored = everything_stored(collector)
    secrets = {
        "device secret": device.secret,
        "used enrolment token": registration.token,
        "unused enrolment token": unused.token,
        "admin API token": collector.admin_token,
        "admin password": ADMIN_PASSWORD,
    }
    for what, value in secrets.items():
        assert value.encode() not in stored, f"the {what} is stored in plaintext"
    assert device.device_id.encode() in stored  # the dump really holds the rows


def test_the_agent_state_directory_is_private(
    start_collector: StartCollector, tmp_path: Path
) -> None:
    """Backend-independent: SQLite only, and its own collector, stopped so a report waits."""
    own = start_collector("sqlite")
    device = own.enrol(tmp_path / "agent")
    own.stop(grace_s=0)
    sent = run_agent(device.state_dir, "send")
    assert sent.returncode == 0 and "is spooled" in sent.stderr, sent.stderr
    state = device.state_dir
    assert (state / "device_secret").exists() and (state / "fingerprint.key").exists()
    assert list((state / "spool").glob("*.json"))
    for path in [state, *state.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        expected = 0o700 if path.is_dir() else 0o600
        assert mode == expected, f"{path.relative_to(state.parent)} is {mode:o}"
