"""The self-check loads the HTTP client only when it has a collector to ask (issue #13: requests,
urllib3 and ssl add about 16 MB to its peak memory)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

from agent.delivery.enrolment import Enrolment, save_enrolment

HTTP_MODULES = ("requests", "urllib3", "ssl")
# A fresh interpreter runs the real self-check, then says which HTTP modules it had loaded.
SELF_CHECK = f"""
import contextlib, io, json, sys
from agent.cli import main
out = io.StringIO()
with contextlib.redirect_stdout(out):
    code = main(["--self-check", "--json", "--state-dir", sys.argv[1]])
loaded = [name for name in {HTTP_MODULES!r} if name in sys.modules]
print(json.dumps({{"code": code, "loaded": loaded, "result": json.loads(out.getvalue())}}))
"""


def self_check(state_dir: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", SELF_CHECK, str(state_dir)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    outcome: dict[str, Any] = json.loads(done.stdout)
    assert outcome["code"] in (0, 1, 3)
    return outcome


def checks(outcome: dict[str, Any]) -> dict[str, dict[str, str]]:
    return {c["name"]: c for c in outcome["result"]["checks"]}


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_unenrolled_self_check_never_imports_the_http_client(tmp_path: Path) -> None:
    outcome = self_check(tmp_path / "state")
    assert checks(outcome)["enrolment"]["status"] == "fail"
    assert outcome["result"]["report"]["probes"]["credentials"]["status"] == "ok"
    assert outcome["loaded"] == []


def test_an_enrolled_self_check_imports_it_and_asks_the_collector(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    secret = state / "device-secret"
    secret.write_text("not-a-real-secret\n")
    server = f"http://127.0.0.1:{closed_port()}"
    save_enrolment(state, Enrolment("dev-1", server, None, f"file:{secret}"))
    outcome = self_check(state)
    found = checks(outcome)
    assert found["enrolment"]["status"] == "pass"
    assert found["collector"]["status"] == "fail"
    assert "unreachable" in found["collector"]["detail"]
    assert "requests" in outcome["loaded"]
