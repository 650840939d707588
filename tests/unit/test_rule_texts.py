"""What a person reads: each rule's title states the requirement, evidence is plain words with
long lists cut, each remedy is in the words of the OS the check ran on, and the dashboard shows
a remedy's commands as code, escaped."""

from __future__ import annotations

import re
from typing import Any

import pytest

from agent.policy import Evaluator, load_catalogue
from agent.policy.loader import parse_catalogue
from agent.policy.model import os_family
from agent.policy.operations import MAX_DETAIL, fact_name
from server_stub.dashboard.filters import remedy
from tests.unit.test_rules import NOW, POLICY, clean_facts, setting, unreadable

RULES = {rule.id: rule for rule in load_catalogue()}
# Words that describe a violation: a title that starts with one reads backwards on a PASS line.
VIOLATION = re.compile(
    r"^(Connected|Account not|Updates not|Disk not|Firewall off|Stray|Reboot pending)"
)


@pytest.mark.parametrize("rule_id", sorted(RULES))
def test_every_title_states_the_requirement_and_every_text_is_a_sentence(rule_id: str) -> None:
    rule = RULES[rule_id]
    assert not VIOLATION.match(rule.title), rule.title
    for text in (rule.remediation, *rule.remediation_by_os.values(), rule.guidance):
        assert text[:1].isupper() and text.rstrip().endswith((".", ")")), text
        assert text.count("`") % 2 == 0, f"unpaired backtick in {text!r}"


@pytest.mark.parametrize(
    ("host_os", "family"),
    [("windows", "windows"), ("macos", "macos"), ("debian", "linux"), ("fedora", "linux")],
)
def test_a_remedy_is_in_the_words_of_the_os_the_check_ran_on(host_os: str, family: str) -> None:
    facts = clean_facts()
    facts["host"]["os"] = host_os
    setting("probes.device_security.data.firewall_enabled", False)(facts)
    [result] = Evaluator(POLICY, [RULES["SEC-002"]]).evaluate(facts, NOW)
    assert os_family(host_os) == family
    assert result.remediation == RULES["SEC-002"].remediation_by_os[family]
    others = set(RULES["SEC-002"].remediation_by_os) - {family}
    assert all(RULES["SEC-002"].remediation_by_os[o] != result.remediation for o in others)


def test_a_report_that_names_no_os_gets_the_general_remedy() -> None:
    facts: dict[str, Any] = clean_facts()
    del facts["host"]["os"]
    setting("probes.device_security.data.firewall_enabled", False)(facts)
    [result] = Evaluator(POLICY, [RULES["SEC-002"]]).evaluate(facts, NOW)
    assert result.remediation == RULES["SEC-002"].remediation


def test_the_catalogue_refuses_a_remedy_table_without_default_or_with_an_unknown_os() -> None:
    rule = (
        '[[rule]]\nid = "X-1"\ntitle = "t"\nseverity = "low"\nguidance = "g"\n'
        'checks = [{ op = "is_true", fact = "a.b" }]\n[rule.remediation]\n'
    )
    with pytest.raises(ValueError, match="default"):
        parse_catalogue(rule + 'linux = "x"\n')
    with pytest.raises(ValueError, match="amiga"):
        parse_catalogue(rule + 'default = "x"\namiga = "y"\n')


def test_evidence_is_plain_words_and_long_lists_are_cut_to_a_count() -> None:
    facts = clean_facts()
    names = [f"pkg{n}" for n in range(50)]
    setting("probes.patch_level.data.pending_security_updates", 77)(facts)
    setting("probes.patch_level.data.security_updates", names)(facts)
    [result] = Evaluator(POLICY, [RULES["PATCH-002"]]).evaluate(facts, NOW)
    [evidence] = result.evidence
    shown = ", ".join(names[:MAX_DETAIL])
    assert (
        evidence == f"pending security updates: 77 (at most 0): {shown} and {77 - MAX_DETAIL} more"
    )
    [wifi] = Evaluator(POLICY, [RULES["NET-004"]]).evaluate(clean_facts(), NOW)
    assert wifi.evidence == ["Wi-Fi networks: none reported"]
    unreadable("device_security", "firewall_enabled")(facts)
    [firewall] = Evaluator(POLICY, [RULES["SEC-002"]]).evaluate(facts, NOW)
    assert firewall.evidence[0].startswith("firewall enabled could not be read: ")


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("probes.network.data.interfaces[*].addresses[*].address", "addresses"),
        ("probes.network.data.wifi_ssids[*]", "Wi-Fi networks"),
        ("probes.device_security.data.disk_encrypted", "disk encrypted"),
        ("collector.approved", "approved"),
    ],
)
def test_fact_names_read_as_words(path: str, words: str) -> None:
    assert fact_name(path) == words


def test_the_dashboard_shows_a_remedys_commands_as_code_and_escapes_the_rest() -> None:
    assert str(remedy("Run `sudo ufw enable` now.")) == "Run <code>sudo ufw enable</code> now."
    assert str(remedy("`<script>x</script>`")) == "<code>&lt;script&gt;x&lt;/script&gt;</code>"
    assert str(remedy("a <b> and ` alone")) == "a &lt;b&gt; and ` alone"
