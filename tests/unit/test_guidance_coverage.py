"""Every requirement of the guidance is checked by a rule or handled by a procedure, every
enabled rule of the default pack answers to a requirement, and docs/guidance.md says so."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from agent.policy import default_policy, load_catalogue
from agent.policy.guidance import Requirement, coverage_gaps, load_guidance
from server_stub.sop.document import enabled_rules

DOC = Path(__file__).resolve().parents[2] / "docs" / "guidance.md"


def pack_rules() -> list[str]:
    return [rule.id for rule in enabled_rules(default_policy(), load_catalogue())]


def test_the_default_pack_has_no_coverage_gap() -> None:
    assert coverage_gaps(load_guidance(), enabled_rules(default_policy(), load_catalogue())) == []


def test_requirements_name_only_rules_of_the_catalogue() -> None:
    catalogue = {rule.id for rule in load_catalogue()}
    named = {rule_id for r in load_guidance() for rule_id in r.rules}
    assert named <= catalogue
    assert len({r.id for r in load_guidance()}) == len(load_guidance())


def test_a_rule_without_requirement_or_a_requirement_without_handling_is_a_gap() -> None:
    rules = list(load_catalogue())
    stray = replace(rules[0], id="NET-999")
    bare = Requirement(id="bare", text="Something.", rules=("NOPE-001",), procedure=" ")
    gaps = coverage_gaps([*load_guidance(), bare], [*rules, stray])
    assert gaps == [
        "NET-999: no guidance requirement names it",
        "bare: neither a rule in the pack nor a procedure",
    ]


def test_the_doc_quotes_each_requirement_and_names_its_rules_in_the_pack() -> None:
    rows = [line for line in DOC.read_text(encoding="utf-8").splitlines() if line.startswith("| “")]
    present = set(pack_rules())
    assert len(rows) == len(load_guidance()), "one row per requirement"
    for requirement, row in zip(load_guidance(), rows, strict=True):
        assert row.startswith(f"| “{requirement.text}” |"), requirement.id
        named = set(re.findall(r"\b[A-Z]+-\d{3}\b", row.split(" | ")[2]))
        assert named == set(requirement.rules) & present, requirement.id
        if requirement.procedure:
            assert "SOP" in row or "enrolment" in row, requirement.id
