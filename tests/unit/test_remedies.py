"""Every kind of finding a store reports has its own remedy in the self-check."""

from __future__ import annotations

import re
from pathlib import Path

from agent.facts.probes.credentials.remedies import DEFAULT_REMEDY, REMEDIES, remedy_for

CREDENTIALS = Path(__file__).resolve().parents[2] / "agent" / "facts" / "probes" / "credentials"


def test_every_reported_kind_has_a_remedy() -> None:
    source = "\n".join(p.read_text() for p in CREDENTIALS.rglob("*.py"))
    fixtures = Path(__file__).resolve().parents[1] / "fixtures" / "credentials"
    recorded = "\n".join(p.read_text() for p in fixtures.rglob("*.json"))
    kinds = set(re.findall(r'"kind": "([a-z_0-9]+)"', recorded))
    kinds |= set(re.findall(r'scan\.add\(\s*"([a-z_0-9]+)"', source))
    assert kinds, "no finding kinds found"
    assert not kinds - REMEDIES.keys(), f"kinds without a remedy: {kinds - REMEDIES.keys()}"


def test_store_specific_saved_logins() -> None:
    assert ".netrc" in remedy_for("saved_login", "netrc")
    assert "password manager" in remedy_for("saved_login", "chrome")
    assert remedy_for("something_new") == DEFAULT_REMEDY
