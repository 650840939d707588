"""The guidance's requirements (guidance.toml) and the coverage check: rules and procedures."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources

from agent.policy.model import Rule


@dataclass(frozen=True)
class Requirement:
    """One requirement of the guidance, quoted, with the rules and procedure that handle it."""

    id: str
    text: str
    rules: tuple[str, ...]
    procedure: str


def parse_guidance(text: str) -> tuple[Requirement, ...]:
    return tuple(
        Requirement(
            id=entry["id"],
            text=entry["text"],
            rules=tuple(entry.get("rules", ())),
            procedure=entry.get("procedure", ""),
        )
        for entry in tomllib.loads(text)["requirement"]
    )


def load_guidance() -> tuple[Requirement, ...]:
    """The shipped requirements, in the guidance's order."""
    data = resources.files("agent.policy").joinpath("guidance.toml")
    return parse_guidance(data.read_text(encoding="utf-8"))


def coverage_gaps(requirements: Iterable[Requirement], rules: Iterable[Rule]) -> list[str]:
    """What the coverage lacks: a rule no requirement names, a requirement with neither a rule
    of these nor a procedure. Rule ids these rules lack are not gaps (a pack may leave a rule
    out) as long as the requirement keeps a rule or a procedure."""
    requirements, rules = list(requirements), list(rules)
    present = {rule.id for rule in rules}
    named = {rule_id for r in requirements for rule_id in r.rules}
    gaps = [
        f"{rule.id}: no guidance requirement names it" for rule in rules if rule.id not in named
    ]
    gaps += [
        f"{r.id}: neither a rule in the pack nor a procedure"
        for r in requirements
        if not (set(r.rules) & present) and not r.procedure.strip()
    ]
    return gaps
