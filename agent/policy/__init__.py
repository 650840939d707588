"""The policy: organisation values, the rule catalogue and the engine that evaluates it."""

from agent.policy.engine import Evaluator
from agent.policy.loader import (
    PolicyError,
    default_policy,
    load_catalogue,
    load_policy_file,
    parse_policy,
)
from agent.policy.model import Policy, Rule, RuleResult, verdict

__all__ = [
    "Evaluator",
    "Policy",
    "PolicyError",
    "Rule",
    "RuleResult",
    "default_policy",
    "load_catalogue",
    "load_policy_file",
    "parse_policy",
    "verdict",
]
