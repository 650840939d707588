"""accounts: logged-in users, local accounts and admins, directory join, work accounts."""

from __future__ import annotations

from agent.facts.context import Context
from agent.facts.probes.accounts import darwin, linux, windows
from agent.facts.probes.accounts.model import AccountsData
from agent.facts.probes.accounts.readers import AccountsReaders
from agent.facts.probes.base import Probe, Reading, for_os

# Typed as the readers so that mypy checks each OS module has all of them, alike.
LINUX: AccountsReaders = linux
DARWIN: AccountsReaders = darwin
WINDOWS: AccountsReaders = windows


def collect(ctx: Context) -> AccountsData:
    readers = for_os(ctx, linux=LINUX, darwin=DARWIN, windows=WINDOWS)
    reading = Reading(ctx)
    return AccountsData(
        logged_in=reading.attempt("logged_in", lambda: readers.read_logged_in(reading)),
        local_accounts=reading.attempt(
            "local_accounts", lambda: readers.read_local_accounts(reading)
        ),
        domain_join=reading.attempt("domain_join", lambda: readers.read_domain_join(reading)),
        work_accounts=reading.attempt("work_accounts", lambda: readers.read_work_accounts(reading)),
        gaps=reading.gaps,
    )


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
