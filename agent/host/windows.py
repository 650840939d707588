"""Hardware identity on windows (placeholder until its probe module lands)."""

from __future__ import annotations

from agent.context import Context, FactUnavailable


def read_hardware_id(ctx: Context) -> str:
    raise FactUnavailable("hardware id is not read on this OS yet")
