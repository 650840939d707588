"""What the credential scan looks for and how far it may go: from the policy and agent config."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from agent.atomic import write_private
from agent.config import AgentConfig
from agent.policy import Policy

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Organisation:
    """The identifiers that make a credential the organisation's (lower-case)."""

    domains: tuple[str, ...] = ()
    kerberos_realms: tuple[str, ...] = ()
    tenant_ids: tuple[str, ...] = ()
    ssids: tuple[str, ...] = ()
    vpn_hosts: tuple[str, ...] = ()


@dataclass(frozen=True)
class ScanSettings:
    """Budgets and targets for the credentials probe."""

    organisation: Organisation
    fingerprint_key: bytes = field(repr=False)
    homes: tuple[str, ...] = ()  # empty: every user home the OS lists
    max_file_bytes: int = 2 * 1024 * 1024
    max_files: int = 50_000
    time_budget_s: float = 60.0


def organisation_from(policy: Policy) -> Organisation:
    values = policy.values

    def lowered(table: str, key: str) -> tuple[str, ...]:
        return tuple(str(v).lower() for v in values[table][key])

    return Organisation(
        domains=lowered("organisation", "domains"),
        kerberos_realms=lowered("organisation", "kerberos_realms"),
        tenant_ids=lowered("organisation", "tenant_ids"),
        ssids=tuple(str(v) for v in values["network"]["ssids"]),
        vpn_hosts=lowered("network", "vpn_hosts"),
    )


KEY_FILE = "fingerprint.key"


def fingerprint_key(state_dir: Path) -> bytes:
    """The per-device HMAC key for finding fingerprints: made once, kept 0600 in the state dir.

    Where the state directory cannot be written (a self-check by a user without one), the key
    lives for this run only: fingerprints are then stable within the run, not across runs.
    """
    path = state_dir / KEY_FILE
    if not path.exists():
        key = secrets.token_bytes(32)
        try:
            write_private(path, key.hex())
        except OSError as exc:
            log.info("cannot keep a fingerprint key in %s (%s): using one for this run", path, exc)
        return key
    try:
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    except (OSError, ValueError) as exc:
        log.warning("fingerprint key %s unreadable (%s): using a key for this run", path, exc)
        return secrets.token_bytes(32)


def scan_settings_for(config: AgentConfig, policy: Policy) -> ScanSettings:
    return ScanSettings(
        organisation=organisation_from(policy),
        fingerprint_key=fingerprint_key(config.state_dir),
        homes=config.credential_homes,
        max_file_bytes=config.max_file_bytes,
        max_files=config.max_files,
        time_budget_s=config.time_budget_s,
    )
