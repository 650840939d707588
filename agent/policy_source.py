"""Which policy the agent uses: --policy, else the one cached from the collector, else built-in."""

from __future__ import annotations

from agent.config import AgentConfig
from agent.policy import Policy, default_policy, load_policy_file


def choose_policy(explicit: str | None, config: AgentConfig) -> Policy:
    if explicit:
        return load_policy_file(explicit)
    if config.cached_policy_file.exists():
        return load_policy_file(str(config.cached_policy_file))
    return default_policy()
