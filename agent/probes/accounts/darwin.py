"""accounts on macOS: not built yet."""

from __future__ import annotations

from agent.context import Context, ProbeUnsupported
from agent.probes.accounts.model import AccountsData


def collect(ctx: Context) -> AccountsData:
    raise ProbeUnsupported("accounts is not implemented on this OS yet")
