"""Policy files: the default pack loads; a broken file names its line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.policy import PolicyError, default_policy, load_catalogue, load_policy_file, parse_policy
from agent.policy.operations import OPERATIONS
from agent.policy.selector import select


def test_default_pack_loads_with_example_values() -> None:
    policy = default_policy()
    assert policy.organisation_name == "University of Example"
    assert "eduroam" in policy.lookup("network.ssids")
    assert policy.interval_minutes == 15
    assert policy.lookup("reporting.max_clock_skew_minutes") == 10


def test_the_clock_skew_defaults_to_ten_minutes_and_takes_a_policy_value() -> None:
    assert parse_policy("").lookup("reporting.max_clock_skew_minutes") == 10
    policy = parse_policy("[reporting]\nmax_clock_skew_minutes = 3\n")
    assert policy.lookup("reporting.max_clock_skew_minutes") == 3


def test_catalogue_uses_only_known_operations_and_policy_values() -> None:
    policy = default_policy()
    ids = [rule.id for rule in load_catalogue()]
    assert len(ids) == len(set(ids)) == 24
    for rule in load_catalogue():
        assert rule.title and rule.guidance and rule.remediation
        for check in rule.checks:
            assert check.op in OPERATIONS, (rule.id, check.op)
            for path in (*check.param, *check.exempt):
                policy.lookup(path)  # KeyError if the rule names a value no policy has


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[network]\ninternal_cidrs = ["10.0.0.0/8", "10.0.0.300/8"]\n',
            "line 2: [network] internal_cidrs",
        ),
        ("[network]\nssid = ['eduroam']\n", "line 2: [network] ssid: unknown key"),
        ("[patches]\nmax_days_since_update = -1\n", "line 2: [patches] max_days_since_update"),
        ("[organisation]\ndomains = ['exa mple.org']\n", "[organisation] domains"),
        ("[rules.NET-999]\nenabled = false\n", "line 1: [rules.NET-999]: unknown rule id"),
        ("[rules.NET-001]\nseverity = 'urgent'\n", "line 2: [rules.NET-001] severity"),
        ("[rules.NET-001]\nenabled = 'no'\n", "[rules.NET-001] enabled: must be true or false"),
        ("[reporting]\nmax_clock_skew_minutes = 0\n", "[reporting] max_clock_skew_minutes"),
        ("[reporting]\nmax_clock_skew_minutes = '10'\n", "[reporting] max_clock_skew_minutes"),
        ("[data]\nlabel_ids = { confidential = 'x' }\n", "line 2: [data] label_ids: 'confid"),
        ("[data]\nlabel_ids = ['x']\n", "[data] label_ids: must map label GUIDs to names"),
        ("[data]\nmarkings = 'SECRET'\n", "[data] markings: must be a list of strings"),
        ("[netwrk]\n", "line 1: [netwrk]: unknown table"),
        ("[network\n", "not valid TOML"),
    ],
)
def test_broken_policy_names_line_and_key(text: str, message: str) -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy(text, source="p.toml")
    assert message in str(caught.value)
    assert str(caught.value).startswith("p.toml")


def test_the_data_scheme_defaults_and_label_ids_as_office_writes_them() -> None:
    policy = parse_policy("[organisation]\nname = 'X'\n")
    assert policy.values["data"] == {
        "markings": ["CONFIDENTIAL", "HIGHLY CONFIDENTIAL", "RESTRICTED", "INTERNAL"],
        "public_labels": ["Public"],
        "label_ids": {},
    }
    text = '[data]\nlabel_ids = { "{F42AA342-8706-4288-BD11-EBB85995028C}" = "Confidential" }\n'
    assert parse_policy(text).values["data"]["label_ids"] == {
        "f42aa342-8706-4288-bd11-ebb85995028c": "Confidential"
    }


def test_unreadable_policy_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read the policy file"):
        load_policy_file(str(tmp_path / "missing.toml"))


def test_every_rule_fact_path_exists_in_a_real_report(linux_report: dict[str, object]) -> None:
    facts = {
        **linux_report,
        "collector": {
            "source_ip": "192.0.2.9",
            "approved": True,
            "approval_expires": None,
            "last_seen_at": None,
            "clock_offset_s": 0,
            "clock_skew_minutes": 0,
            "clock_offset": "clock right to the minute",
        },
    }
    for rule in load_catalogue():
        for check in rule.checks:
            selection = select(facts, check.fact)
            missing = [u for u in selection.unknown if "not in the report" in u]
            assert not missing, (rule.id, check.fact)
