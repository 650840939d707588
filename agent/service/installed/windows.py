"""The scheduled task "Outpost Agent"."""

from __future__ import annotations

import json
from typing import Literal

from agent.facts.context import Context, ParseError

TASK = "Outpost Agent"
SCRIPT = (
    "$t = Get-ScheduledTask -TaskName 'Outpost Agent' -ErrorAction SilentlyContinue;"
    "if ($t) { ConvertTo-Json -Compress @{State=[string]$t.State} } else { '{}' }"
)


def service_state(ctx: Context) -> tuple[Literal["pass", "fail", "unknown"], str]:
    """Get-ScheduledTask's State (sample: {"State":"Running"}); {} when absent."""
    done = ctx.powershell("service_state", SCRIPT, timeout=20)
    try:
        state = json.loads(done.stdout or "{}").get("State")
    except (json.JSONDecodeError, AttributeError) as exc:
        raise ParseError(f"Get-ScheduledTask printed no JSON: {exc}") from exc
    if state is None:
        return "fail", f"the scheduled task {TASK!r} is not installed"
    if state == "Running":
        return "pass", f"the scheduled task {TASK!r} is running"
    return "fail", f"the scheduled task {TASK!r} is {state}"
