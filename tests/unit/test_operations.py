"""Each rule operation on its own: the closed set the engine offers."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.matching import domain_matches, host_of
from agent.policy.operations import OPERATIONS, Inputs, version_tuple
from agent.policy.selector import Item, select

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def run(op: str, values: list[object], param: object = None, **extra: object) -> str:
    items = [Item(value=v, label="") for v in values]
    return OPERATIONS[op](items, Inputs(param=param, now=NOW, **extra)).status  # type: ignore[arg-type]


NETS = [ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("2001:db8::/32")]


@pytest.mark.parametrize(
    ("op", "values", "param", "expected"),
    [
        ("none_in_cidrs", ["192.0.2.1"], NETS, "pass"),
        ("none_in_cidrs", ["10.9.8.7"], NETS, "fail"),
        ("none_in_cidrs", ["2001:db8::1"], NETS, "fail"),
        ("none_in_cidrs", ["fe80::1%eth0"], NETS, "pass"),
        ("none_in_cidrs", ["fs01.example.org"], NETS, "pass"),
        ("none_in_cidrs", ["10.0.0.1"], [], "not_applicable"),
        ("none_match_domains", ["mail.example.org"], ["example.org"], "fail"),
        ("none_match_domains", ["example.org.evil.com"], ["example.org"], "pass"),
        ("none_match_domains", ["badexample.org"], ["example.org"], "pass"),
        ("none_match_domains", ["x"], [], "not_applicable"),
        ("none_in_set", ["EduRoam"], ["eduroam"], "fail"),
        ("none_in_set", ["eduroam-free"], ["eduroam"], "pass"),
        ("all_in_set", ["tiktok"], ["TikTok"], "pass"),
        ("all_in_set", ["alice"], ["tiktok"], "fail"),
        ("all_in_set", [], [], "pass"),
        ("is_empty", [], None, "pass"),
        ("is_empty", ["~/.netrc"], None, "fail"),
        ("is_true", [True], None, "pass"),
        ("is_true", [False], None, "fail"),
        ("is_true", [], None, "unknown"),
        ("true_or_unknown", [True], None, "pass"),
        ("true_or_unknown", [False], None, "unknown"),
        ("true_or_unknown", [], None, "unknown"),
        ("is_false", [False], None, "pass"),
        ("is_false", [True], None, "fail"),
        ("at_most", [0], 0, "pass"),
        ("at_most", [3], 2, "fail"),
        ("within_days", ["2026-11-01T00:00:00Z"], 30, "pass"),
        ("within_days", ["2026-01-01T00:00:00Z"], 30, "fail"),
        ("within_days", ["last tuesday"], 30, "unknown"),
        ("within_hours", ["2026-11-21T11:00:00Z"], 24, "pass"),
        ("within_hours", ["2026-11-19T11:00:00Z"], 24, "fail"),
        ("not_before_today", ["2026-11-21"], None, "pass"),
        ("not_before_today", ["2026-11-20"], None, "fail"),
        ("not_before_today", [], None, "pass"),
        ("not_before_today", ["soon"], None, "unknown"),
    ],
)
def test_operation(op: str, values: list[object], param: object, expected: str) -> None:
    assert run(op, values, param) == expected


def test_version_at_least_uses_the_os_key() -> None:
    minimums = {"macos": "14.0", "windows": "10.0.19045"}
    assert run("version_at_least", ["14.5"], minimums, key="macos") == "pass"
    assert run("version_at_least", ["13.6.9"], minimums, key="macos") == "fail"
    assert run("version_at_least", ["10.0.22631"], minimums, key="windows") == "pass"
    assert run("version_at_least", ["6.1"], minimums, key="arch") == "not_applicable"
    assert run("version_at_least", ["rolling"], minimums, key="macos") == "unknown"


def app(name: str, version: str | None, why: str | None = None) -> dict[str, object]:
    return {"name": name, "version": version, "source": "test", "version_unknown": why}


@pytest.mark.parametrize(
    ("apps", "expected"),
    [
        ([app("chrome", "150.0.7000.1"), app("firefox", "140.5.0esr")], "pass"),
        ([app("chrome", "149.9.9999.9")], "fail"),
        ([app("chrome", "156.0.1"), app("firefox", "128.9.0esr")], "fail"),
        ([app("chrome", None, "the program has no readable version")], "unknown"),
        ([app("chrome", "canary")], "unknown"),
        ([app("chrome", "1.0"), app("edge", None)], "fail"),  # a failure outranks an unknown
        ([app("opera", "1.0")], "pass"),  # no minimum: not judged
        ([], "pass"),  # nothing installed is no failure
    ],
)
def test_versions_at_least_over_installed_applications(apps: list[object], expected: str) -> None:
    minimums = {"chrome": "150", "edge": "150", "firefox": "140"}
    assert run("versions_at_least", apps, minimums) == expected
    assert run("versions_at_least", apps, {}) == "not_applicable"


def test_select_keeps_the_list_element_each_value_came_from() -> None:
    facts = {"f": [{"location": "~/a", "identity": "x@y.z"}, {"location": "~/b"}]}
    items = select(facts, "f[*].location").items
    assert [(i.value, i.element) for i in items] == [("~/a", facts["f"][0]), ("~/b", facts["f"][1])]


@pytest.mark.parametrize(
    ("value", "host"),
    [
        ("alice@Example.ORG", "example.org"),
        ("https://sso.example.org/login?x=1", "sso.example.org"),
        ("//alice@fs01.example.org/share", "fs01.example.org"),
        ("\\\\fs01.example.org\\home$", "fs01.example.org"),
        ("vpn.example.org:443", "vpn.example.org"),
        ("EXAMPLE.ORG.", "example.org"),
    ],
)
def test_host_of(value: str, host: str) -> None:
    assert host_of(value) == host


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz.-", min_size=1, max_size=30))
def test_a_lookalike_suffix_never_matches(label: str) -> None:
    assert not domain_matches(f"example.org.{label}.evil", "example.org")
    assert domain_matches(f"{label.strip('.') or 'a'}.example.org", "example.org")


def test_version_tuple() -> None:
    assert version_tuple("14.5 (23F79)") == (14, 5)
    with pytest.raises(ValueError):
        version_tuple("rolling")


def test_every_operation_is_exercised_here() -> None:
    source = Path(__file__).read_text(encoding="utf-8")
    for name in OPERATIONS:
        assert f'"{name}"' in source, name


def test_selector_labels_and_absences() -> None:
    facts = {
        "probes": {
            "network": {
                "status": "ok",
                "data": {
                    "interfaces": [{"name": "eth0", "addresses": [{"address": "10.0.0.1"}]}],
                    "wifi_ssids": None,
                    "gaps": {"wifi_ssids": "redacted by macOS"},
                    "domain": {"inner": None},
                },
            }
        }
    }
    found = select(facts, "probes.network.data.interfaces[*].addresses[*].address")
    assert [(i.label, i.value) for i in found.items] == [("eth0", "10.0.0.1")]
    assert select(facts, "probes.network.data.wifi_ssids[*]").unknown == [
        "wifi ssids could not be read: redacted by macOS"
    ]
    nested = select(facts, "probes.network.data.domain.inner")
    assert nested.items == [] and nested.unknown == []


def target(name: str, **answer: object) -> dict[str, object]:
    """One isolation target's result: nothing resolved, nothing reached, unless `answer` says."""
    found: dict[str, object] = {"target": name, "resolved": False, "internal_address": None}
    found.update({"reachable": None, "answer": "not_found", "duration_ms": 4, "interface": None})
    return {**found, **answer}


@pytest.mark.parametrize(
    ("values", "param", "expected"),
    [
        ([target("a.example")], ["a.example"], "pass"),
        ([target("a.example", resolved=True, internal_address=True)], ["a.example"], "fail"),
        ([target("a.example", resolved=True)], ["a.example"], "fail"),  # no ranges: any address
        ([target("a.example", resolved=True, internal_address=False)], ["a.example"], "pass"),
        ([target("10.0.0.5:22", resolved=None, reachable=True)], ["10.0.0.5:22"], "fail"),
        ([target("10.0.0.5:22", resolved=None, reachable=False)], ["10.0.0.5:22"], "pass"),
        ([target("a.example", resolved=None, answer="no_answer")], ["a.example"], "unknown"),
        ([target("a.example")], ["a.example", "b.example"], "unknown"),
        (
            [target("a.example", resolved=None, answer="no_answer"), target("b", reachable=True)],
            ["a.example", "b"],
            "fail",
        ),
        ([target("a.example", reachable=True)], [], "not_applicable"),
        ([], None, "not_applicable"),
    ],
)
def test_none_answered(values: list[object], param: object, expected: str) -> None:
    assert run("none_answered", values, param) == expected
