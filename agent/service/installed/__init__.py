"""Is the agent's background service installed and running? One answer per OS."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from agent.facts.context import Context, FactUnavailable
from agent.service.installed import darwin, linux, windows

State = tuple[Literal["pass", "fail", "unknown"], str]
_CHECKS: dict[str, Callable[[Context], State]] = {
    "linux": linux.service_state,
    "darwin": darwin.service_state,
    "windows": windows.service_state,
}


def service_state(ctx: Context) -> State:
    try:
        return _CHECKS[ctx.os_name](ctx)
    except FactUnavailable as exc:
        return "unknown", f"cannot tell: {exc}"
