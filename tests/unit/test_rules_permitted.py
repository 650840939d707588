"""Table tests for the permitted mailbox: the rules' `except` option on CRED-001 and ACC-002."""

from __future__ import annotations

from typing import Any

import pytest

from agent.policy import PolicyError, load_catalogue, parse_policy
from agent.policy.engine import exempted
from agent.policy.loader import default_policy_text
from tests.unit.test_rules import POLICY, clean_facts, evaluate_rule

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
