"""Table tests for the permitted mailbox: the rules' `except` option on CRED-001 and ACC-002."""

from __future__ import annotations

from typing import Any

import pytest

from agent.commands.self_check import SelfCheck, render_text, to_json
from agent.policy import Evaluator, PolicyError, load_catalogue, parse_policy, verdict
from agent.policy.engine import exempted
from agent.policy.loader import default_policy_text
from agent.report import AgentInfo, HostInfo, ProbeResult, Report
from tests.unit.test_rules import NOW, POLICY, clean_facts, evaluate_rule

PERMITTED = "tiktok-comms@example.ac.uk"
TENANT = "11111111-2222-4333-8444-555555555555"


def finding(identity: str | None, location: str = "~/.thunderbird/p/prefs.js") -> dict[str, Any]:
    return {
        "kind": "mail_account",
        "store": "thunderbird",
        "location": location,
        "identity": identity,
        "org_match": "example.ac.uk",
        "fingerprint": "0" * 32,
    }


def with_credentials(*identities: str | None) -> dict[str, Any]:
    facts = clean_facts()
    facts["probes"]["credentials"]["data"]["findings"] = [
        finding(identity, f"~/store{n}") for n, identity in enumerate(identities)
    ]
    return facts


def with_work_accounts(*identities: str) -> dict[str, Any]:
    facts = clean_facts()
    facts["probes"]["accounts"]["data"]["work_accounts"] = [
        {"identity": identity, "provider": "entra", "tenant_id": TENANT} for identity in identities
    ]
    return facts


IDENTITY_CASES = [
    # identity (or identities) found, expected status
    ((PERMITTED,), "pass"),
    (("TikTok-Comms@Example.AC.UK",), "pass"),
    ((f"{PERMITTED}.evil.com",), "fail"),
    (("tiktok-comms2@example.ac.uk",), "fail"),
    ((f"{PERMITTED} ",), "fail"),
    ((f" {PERMITTED}",), "fail"),
    (("tiktok-comms@staff.example.ac.uk",), "fail"),
    (("alice.smith@example.ac.uk",), "fail"),
    ((PERMITTED, "alice.smith@example.ac.uk"), "fail"),
]


@pytest.mark.parametrize(("identities", "status"), IDENTITY_CASES)
def test_cred_001_passes_only_the_exact_permitted_identity(
    identities: tuple[str, ...], status: str
) -> None:
    result = evaluate_rule("CRED-001", POLICY, with_credentials(*identities))
    assert result.status == status, result.evidence
    if status == "fail":
        assert PERMITTED not in [e for e in result.evidence if not e.startswith("permitted")]


@pytest.mark.parametrize(("identities", "status"), IDENTITY_CASES)
def test_acc_002_passes_only_the_exact_permitted_work_account(
    identities: tuple[str, ...], status: str
) -> None:
    result = evaluate_rule("ACC-002", POLICY, with_work_accounts(*identities))
    assert result.status == status, result.evidence


def test_a_pass_names_the_permitted_identity_and_where() -> None:
    result = evaluate_rule("CRED-001", POLICY, with_credentials(PERMITTED))
    assert result.evidence[:2] == ["none found", f"permitted: {PERMITTED} (~/store0)"]


def test_a_finding_without_identity_is_never_exempted() -> None:
    assert evaluate_rule("CRED-001", POLICY, with_credentials(None)).status == "fail"


def test_without_permitted_identities_the_mailbox_fails() -> None:
    policy = parse_policy(
        default_policy_text().replace(f'permitted_org_identities = ["{PERMITTED}"]', "")
    )
    assert evaluate_rule("CRED-001", policy, with_credentials(PERMITTED)).status == "fail"
    assert evaluate_rule("ACC-002", policy, with_work_accounts(PERMITTED)).status == "fail"


def test_exempted_names_each_permitted_identity_in_use_once() -> None:
    facts = with_credentials(PERMITTED, "TIKTOK-COMMS@example.ac.uk", "bob@example.ac.uk")
    facts["probes"]["accounts"]["data"]["work_accounts"] = [
        {"identity": PERMITTED, "provider": "entra", "tenant_id": TENANT}
    ]
    assert exempted(POLICY, load_catalogue(), facts) == [PERMITTED]
    assert exempted(POLICY, load_catalogue(), clean_facts()) == []


@pytest.mark.parametrize(
    "value", ['["tiktok-comms"]', '["tiktok comms@example.ac.uk"]', '["a@b@example.ac.uk"]', "3"]
)
def test_a_permitted_identity_must_be_an_address(value: str) -> None:
    text = default_policy_text().replace(f'["{PERMITTED}"]', value)
    with pytest.raises(PolicyError, match="permitted_org_identities"):
        parse_policy(text)


def test_policy_addresses_are_lower_cased() -> None:
    text = default_policy_text().replace(PERMITTED, "TikTok-Comms@Example.ac.uk")
    assert parse_policy(text).values["accounts"]["permitted_org_identities"] == [PERMITTED]


def test_the_self_check_shows_the_permitted_mailbox_as_permitted_not_to_fix() -> None:
    facts = with_credentials(PERMITTED, "bob@example.ac.uk")
    data = facts["probes"]["credentials"]["data"]
    report = Report(
        schema_version=1,
        report_id="00000000-0000-4000-8000-000000000000",
        device_id=None,
        agent=AgentInfo(version="0", dropped_reports=0),
        collected_at="2026-11-21T12:00:00Z",
        host=HostInfo(
            hostname="tt-01",
            os="debian",
            os_version=None,
            os_build=None,
            kernel=None,
            arch=None,
            boot_time=None,
            hardware_id_hash=None,
        ),
        probes={"credentials": ProbeResult(status="ok", duration_ms=1, data=data, error=None)},
    )
    rules = Evaluator(POLICY, [r for r in load_catalogue() if r.id == "CRED-001"]).evaluate(
        report.to_dict(), NOW
    )
    result = SelfCheck(
        verdict=verdict(rules),
        rules=rules,
        checks=[],
        report=report,
        policy_source="test",
        organisation="Example",
        permitted=tuple(exempted(POLICY, load_catalogue(), report.to_dict())),
    )
    text = render_text(result, colour=False)
    permitted_at = text.index(f"[{PERMITTED}]")
    assert text[permitted_at:].split("\n")[1].strip().startswith("Permitted:")
    bob_at = text.index("[bob@example.ac.uk]")
    assert text[bob_at:].split("\n")[1].strip().startswith("Fix:")
    flags = [(f["identity"], f["permitted"]) for f in to_json(result)["credential_findings"]]
    assert flags == [(PERMITTED, True), ("bob@example.ac.uk", False)]
