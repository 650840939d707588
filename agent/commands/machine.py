"""What a command needs to read this machine: the probes, with the credential and data scans'
settings and the isolation probe's targets taken from the agent's configuration and the policy."""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from importlib import resources

from agent import __version__
from agent.config import AgentConfig
from agent.facts.probes import all_probes
from agent.facts.probes.base import Probe
from agent.facts.probes.credentials.settings import Organisation, ScanSettings
from agent.facts.probes.data_labels.settings import DataSettings
from agent.facts.probes.isolation.settings import IsolationSettings, Target
from agent.policy import Policy
from agent.policy.internal_probes import parse_internal_probe
from agent.state_dir import fingerprint_key

log = logging.getLogger(__name__)


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
        names=tuple(str(n) for n in [values["organisation"].get("name")] if n),
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


def data_settings_for(config: AgentConfig, policy: Policy) -> DataSettings:
    """The policy's classification scheme (`[data]`), in the credential scan's homes and budgets
    (`[credentials]` of agent.toml)."""
    data = policy.values["data"]
    return DataSettings(
        markings=tuple(data["markings"]),
        public_labels=tuple(data["public_labels"]),
        label_ids=dict(data["label_ids"]),
        homes=config.credential_homes,
        max_file_bytes=config.max_file_bytes,
        max_files=config.max_files,
        time_budget_s=config.time_budget_s,
    )


def isolation_settings_for(policy: Policy) -> IsolationSettings:
    """The policy's internal-only targets (`[network] internal_probes`) and internal ranges."""
    targets = []
    for entry in policy.values["network"]["internal_probes"]:
        parsed = parse_internal_probe(str(entry))
        targets.append(Target(parsed.text, parsed.host, parsed.port, parsed.tls, parsed.issuer))
    return IsolationSettings(
        targets=tuple(targets),
        internal_cidrs=tuple(policy.values["network"]["internal_cidrs"]),
    )


def probes_for(config: AgentConfig, policy: Policy) -> tuple[Probe, ...]:
    """Every probe, the credential scan looking for this organisation within its budgets, the
    isolation probe trying the policy's internal-only targets and the data-classification scan
    judging by the policy's scheme."""
    return all_probes(
        scan_settings_for(config, policy),
        isolation_settings_for(policy),
        data_settings_for(config, policy),
    )


def cache_basis(config: AgentConfig, policy: Policy) -> str:
    """What a cached probe result was made under: this agent (its version and report schema),
    the policy and the credential scan's limits. A result made under another is not reused."""
    try:
        schema = resources.files("agent").joinpath("report.schema.json").read_bytes()
    except OSError as exc:  # a broken install: report anyway, but reuse nothing
        log.warning("cannot read the report schema (%s): no probe result is reused", exc)
        schema = secrets.token_bytes(16)
    basis = {
        "agent": __version__,
        "schema": hashlib.sha256(schema).hexdigest(),
        "policy": policy.values,
        "homes": [str(home) for home in config.credential_homes],
        "limits": [config.max_file_bytes, config.max_files, config.time_budget_s],
    }
    text = json.dumps(basis, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()
