"""What the credential scan looks for and how far it may go (the probe's one argument)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Organisation:
    """The identifiers that make a credential the organisation's (lower-case)."""

    domains: tuple[str, ...] = ()
    kerberos_realms: tuple[str, ...] = ()
    tenant_ids: tuple[str, ...] = ()
    ssids: tuple[str, ...] = ()
    vpn_hosts: tuple[str, ...] = ()
    # The organisation's name as people write it ("University of Example"): a synced
    # "OneDrive - University of Example" folder or a vault named for it is evidence too.
    names: tuple[str, ...] = ()


@dataclass(frozen=True)
class ScanSettings:
    """Budgets and targets for the credentials probe."""

    organisation: Organisation
    fingerprint_key: bytes = field(repr=False)
    homes: tuple[str, ...] = ()  # empty: every user home the OS lists
    max_file_bytes: int = 2 * 1024 * 1024
    max_files: int = 50_000
    time_budget_s: float = 60.0
