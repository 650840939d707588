"""What a command needs to read this machine: the probes, with the credential scan's settings
taken from the agent's configuration and the organisation's policy."""

from __future__ import annotations

from agent.config import AgentConfig
from agent.facts.probes import all_probes
from agent.facts.probes.base import Probe
from agent.facts.probes.credentials.settings import Organisation, ScanSettings
from agent.policy import Policy
from agent.state_dir import fingerprint_key


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


def scan_settings_for(config: AgentConfig, policy: Policy) -> ScanSettings:
    return ScanSettings(
        organisation=organisation_from(policy),
        fingerprint_key=fingerprint_key(config.state_dir),
        homes=config.credential_homes,
        max_file_bytes=config.max_file_bytes,
        max_files=config.max_files,
        time_budget_s=config.time_budget_s,
    )


def probes_for(config: AgentConfig, policy: Policy) -> tuple[Probe, ...]:
    """Every probe, the credential scan looking for this organisation within its budgets."""
    return all_probes(scan_settings_for(config, policy))
