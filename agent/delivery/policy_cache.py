"""The organisation's policy cached from the collector, and which policy the agent uses."""

from __future__ import annotations

from typing import TYPE_CHECKING

from agent.config import AgentConfig
from agent.policy import Policy, default_policy, load_policy_file, parse_policy
from agent.state_dir import CACHED_POLICY, POLICY_ETAG, write_private

if TYPE_CHECKING:  # the service chooses its policy without loading requests
    from agent.delivery.transport import Collector


def cached_etag(config: AgentConfig) -> str | None:
    """The version of the cached policy, as the collector named it."""
    etag_file = config.state_dir / POLICY_ETAG
    return etag_file.read_text().strip() if etag_file.exists() else None


def refresh_policy(collector: Collector, config: AgentConfig) -> bool:
    """Cache the organisation's policy for offline self-checks; True when it changed."""
    text, new_etag = collector.fetch_policy(cached_etag(config))
    if text is None:
        return False
    parse_policy(text, source="policy from the collector")  # never cache a policy we can't use
    write_private(config.state_dir / CACHED_POLICY, text)
    write_private(config.state_dir / POLICY_ETAG, new_etag or "")
    return True


def choose_policy(explicit: str | None, config: AgentConfig) -> Policy:
    """--policy, else the one cached from the collector, else the built-in pack."""
    if explicit:
        return load_policy_file(explicit)
    cached = config.state_dir / CACHED_POLICY
    if cached.exists():
        return load_policy_file(str(cached))
    return default_policy()
