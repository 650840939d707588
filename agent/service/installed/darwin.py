"""The launchd daemon org.outpost.agent."""

from __future__ import annotations

from typing import Literal

from agent.facts.context import Context

LABEL = "org.outpost.agent"


def service_state(ctx: Context) -> tuple[Literal["pass", "fail", "unknown"], str]:
    """`launchctl print system/<label>`: exit 0 and `state = running` when it runs."""
    done = ctx.run(["launchctl", "print", f"system/{LABEL}"], timeout=10)
    if done.returncode != 0:
        return "fail", f"{LABEL} is not loaded: sudo launchctl bootstrap system <plist>"
    if "state = running" in done.stdout:
        return "pass", f"{LABEL} is loaded and running"
    return "fail", f"{LABEL} is loaded but not running"
