"""The systemd unit outpost-agent.service."""

from __future__ import annotations

from typing import Literal

from agent.facts.context import Context, FactUnavailable

UNIT = "outpost-agent.service"


def service_state(ctx: Context) -> tuple[Literal["pass", "fail", "unknown"], str]:
    """`systemctl is-enabled` then `is-active` (samples: "enabled", "active", "inactive")."""
    if not ctx.which("systemctl"):
        raise FactUnavailable("no systemctl on this machine")
    enabled = ctx.run(["systemctl", "is-enabled", UNIT], timeout=10)
    text = (enabled.stdout + enabled.stderr).strip()
    if "not been booted with systemd" in text or "Failed to connect" in text:
        raise FactUnavailable("systemd is not running here")
    if enabled.returncode != 0:
        return "fail", f"{UNIT} is not installed or not enabled ({text or 'not found'})"
    active = ctx.run(["systemctl", "is-active", UNIT], timeout=10).stdout.strip()
    if active != "active":
        return "fail", f"{UNIT} is enabled but {active}: systemctl start {UNIT}"
    return "pass", f"{UNIT} is enabled and running"
