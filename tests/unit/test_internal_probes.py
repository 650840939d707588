"""`[network] internal_probes`: what an entry may say, and the clear error when it cannot."""

from __future__ import annotations

import ipaddress

import pytest

from agent.commands.machine import isolation_settings_for
from agent.facts.probes.isolation.settings import Target
from agent.policy import PolicyError, default_policy, parse_policy
from agent.policy.internal_probes import MAX_PROBES, InternalProbe, parse_internal_probe


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("intranet.example.ac.uk", ("intranet.example.ac.uk", None, False, None)),
        ("Intranet.Example.ac.uk.", ("intranet.example.ac.uk", None, False, None)),
        ("10.20.0.5:443", ("10.20.0.5", 443, False, None)),
        ("ldap.example.ac.uk:636", ("ldap.example.ac.uk", 636, False, None)),
        ("[2001:db8::5]:22", ("2001:db8::5", 22, False, None)),
        ("https://wiki.example.ac.uk/", ("wiki.example.ac.uk", 443, True, None)),
        ("https://wiki.example.ac.uk:8443/x", ("wiki.example.ac.uk", 8443, True, None)),
        (
            "https://wiki.example.ac.uk/ issuer=Example Internal CA",
            ("wiki.example.ac.uk", 443, True, "Example Internal CA"),
        ),
    ],
)
def test_each_kind_of_entry(text: str, expected: tuple[object, ...]) -> None:
    assert parse_internal_probe(text) == InternalProbe(text, *expected)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('["10.20.0.5"]', "an address needs a port"),
        ('["2001:db8::5"]', "an address needs a port"),
        ('["http://wiki.example.ac.uk/"]', "only https:// URLs"),
        ('["intranet.example.ac.uk:0"]', "port must be a number from 1 to 65535"),
        ('["intranet.example.ac.uk:https"]', "port must be a number from 1 to 65535"),
        ('["https://wiki.example.ac.uk:99999/"]', "port must be a number from 1 to 65535"),
        ('["wiki.example.ac.uk issuer=Example CA"]', "issuer= goes with an https:// URL"),
        ('["https://wiki.example.ac.uk/ issuer="]', "issuer= needs the issuer's name"),
        ('["intra net.example.ac.uk"]', "is not a host name, host:port or https:// URL"),
        ('["intranet!.example.ac.uk"]', "neither a host name nor an address"),
        ('[""]', "is not a host name"),
        ('"intranet.example.ac.uk"', "must be a list of strings"),
        ("[443]", "must be a list of strings"),
        ('["a.example.ac.uk", "a.example.ac.uk"]', "lists a target twice"),
        (repr([f"h{i}.example.ac.uk" for i in range(MAX_PROBES + 1)]), f"at most {MAX_PROBES}"),
    ],
)
def test_a_bad_entry_names_the_line_and_key(value: str, message: str) -> None:
    text = f'[network]\ninternal_cidrs = ["10.0.0.0/8"]\ninternal_probes = {value}\n'
    with pytest.raises(PolicyError) as caught:
        parse_policy(text, source="p.toml")
    assert "p.toml, line 3: [network] internal_probes: " in str(caught.value)
    assert message in str(caught.value)


def test_the_default_pack_names_none_so_nothing_is_tried() -> None:
    assert default_policy().lookup("network.internal_probes") == []
    assert isolation_settings_for(default_policy()).targets == ()


def test_the_probe_gets_the_policys_targets_and_ranges() -> None:
    policy = parse_policy(
        '[network]\ninternal_cidrs = ["10.0.0.0/8"]\n'
        'internal_probes = ["intranet.example.ac.uk", " 10.20.0.5:443 ",'
        ' "https://wiki.example.ac.uk/ issuer=Example CA"]\n'
    )
    settings = isolation_settings_for(policy)
    assert settings.targets == (
        Target("intranet.example.ac.uk", "intranet.example.ac.uk"),
        Target("10.20.0.5:443", "10.20.0.5", 443),
        Target(
            "https://wiki.example.ac.uk/ issuer=Example CA",
            "wiki.example.ac.uk",
            443,
            tls=True,
            issuer="Example CA",
        ),
    )
    assert settings.internal_cidrs == (ipaddress.ip_network("10.0.0.0/8"),)
    assert settings.budget_s == 0.8
