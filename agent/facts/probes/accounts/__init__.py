"""accounts: logged-in users, local accounts and admins, directory join, work accounts."""

from __future__ import annotations

from collections.abc import Callable

from agent.facts.context import Context
from agent.facts.probes.accounts import darwin, linux, windows
from agent.facts.probes.accounts.model import AccountsData
from agent.facts.probes.base import Probe

# One implementation per OS, same function names in each; chosen by the context's OS.
_COLLECTORS: dict[str, Callable[[Context], AccountsData]] = {
    "linux": linux.collect,
    "darwin": darwin.collect,
    "windows": windows.collect,
}


def collect(ctx: Context) -> AccountsData:
    return _COLLECTORS[ctx.os_name](ctx)


PROBE = Probe(
    name="accounts",
    summary=(
        "Logged-in users, local accounts and administrators, domain / Entra join, "
        "work or school accounts."
    ),
    data_type=AccountsData,
    collect=collect,
    timeout_s=30.0,
)
