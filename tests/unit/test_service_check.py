"""The self-check's "service installed and running" answer, per OS, on recorded output."""

from __future__ import annotations

from typing import Any

import pytest

from agent.service.installed import service_state
from tests.replay import ReplayContext


def ok(stdout: str, rc: int = 0, stderr: str = "") -> dict[str, Any]:
    return {"rc": rc, "stdout": stdout, "stderr": stderr}


UNIT = "outpost-agent.service"
CASES: list[tuple[str, dict[str, Any], str, str]] = [
    (
        "linux",
        {
            "which": {"systemctl": "/usr/bin/systemctl"},
            "commands": {
                f"systemctl is-enabled {UNIT}": ok("enabled\n"),
                f"systemctl is-active {UNIT}": ok("active\n"),
            },
        },
        "pass",
        "enabled and running",
    ),
    (
        "linux",
        {
            "which": {"systemctl": "/usr/bin/systemctl"},
            "commands": {
                f"systemctl is-enabled {UNIT}": ok("enabled\n"),
                f"systemctl is-active {UNIT}": ok("failed\n", rc=3),
            },
        },
        "fail",
        "enabled but failed",
    ),
    (
        "linux",
        {
            "which": {"systemctl": "/usr/bin/systemctl"},
            "commands": {
                f"systemctl is-enabled {UNIT}": ok(
                    "", rc=1, stderr="Failed to get unit file state: No such file or directory\n"
                )
            },
        },
        "fail",
        "not installed",
    ),
    (
        "linux",
        {
            "which": {"systemctl": "/usr/bin/systemctl"},
            "commands": {
                f"systemctl is-enabled {UNIT}": ok(
                    "", rc=1, stderr="System has not been booted with systemd as init system\n"
                )
            },
        },
        "unknown",
        "systemd is not running",
    ),
    ("linux", {"which": {"systemctl": None}}, "unknown", "no systemctl"),
    (
        "darwin",
        {"commands": {"launchctl print system/org.outpost.agent": ok("\tstate = running\n")}},
        "pass",
        "running",
    ),
    (
        "darwin",
        {"commands": {"launchctl print system/org.outpost.agent": ok("", rc=113)}},
        "fail",
        "not loaded",
    ),
    ("windows", {"commands": {"powershell service_state": ok('{"State":"Running"}')}}, "pass", ""),
    ("windows", {"commands": {"powershell service_state": ok("{}")}}, "fail", "not installed"),
    (
        "windows",
        {"commands": {"powershell service_state": ok('{"State":"Ready"}')}},
        "fail",
        "Ready",
    ),
    (
        "windows",
        {"commands": {"powershell service_state": ok("Zugriff verweigert")}},
        "unknown",
        "",
    ),
]


@pytest.mark.parametrize(("os_name", "recording", "status", "detail"), CASES)
def test_service_state(os_name: str, recording: dict[str, Any], status: str, detail: str) -> None:
    got_status, got_detail = service_state(ReplayContext({"os": os_name, **recording}))
    assert got_status == status
    assert detail in got_detail
