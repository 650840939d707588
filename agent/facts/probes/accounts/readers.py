"""The readers every accounts OS module exposes, one per fact."""

from __future__ import annotations

from typing import Protocol

from agent.facts.probes.accounts.model import DomainJoin, LocalAccount, Session, WorkAccount
from agent.facts.probes.base import Reading


class AccountsReaders(Protocol):
    """What linux.py, darwin.py and windows.py each define; one that cannot read a fact raises
    FactUnavailable saying why."""

    def read_logged_in(self, reading: Reading) -> list[Session]: ...
    def read_local_accounts(self, reading: Reading) -> list[LocalAccount]: ...
    def read_domain_join(self, reading: Reading) -> DomainJoin: ...
    def read_work_accounts(self, reading: Reading) -> list[WorkAccount]: ...
