"""The credential-store catalogue beside LaZagne: data matches the finders, page is fresh."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.facts.probes.credentials.stores.catalogue import CATALOGUE, STATUSES, finders, render

PAGE = Path(__file__).resolve().parents[2] / "docs" / "credential-stores.md"
# Module counts of LaZagne @858ff6f: manage_modules.py plus the three list modules.
LAZAGNE_MODULES = {"windows": 56, "linux": 29, "darwin": 6}


@pytest.mark.parametrize("os_name", sorted(CATALOGUE))
def test_every_lazagne_module_once(os_name: str) -> None:
    modules = [entry.module for entry in CATALOGUE[os_name]]
    assert len(modules) == LAZAGNE_MODULES[os_name]
    assert len(set(modules)) == len(modules)


@pytest.mark.parametrize("os_name", sorted(CATALOGUE))
def test_statuses_name_real_finders_of_that_os(os_name: str) -> None:
    """A covered store names finders the agent runs on that OS; a gap says why."""
    known = finders(os_name)
    for entry in CATALOGUE[os_name]:
        assert entry.status in STATUSES, entry
        missing = [f for f in entry.finders if f not in known]
        assert not missing, f"{entry.module}: no finder {missing} on {os_name}"
        if entry.status in ("covered", "partly", "scan"):
            assert entry.finders, f"{entry.module}: {entry.status} without a finder"
        else:
            assert not entry.finders and entry.note, f"{entry.module}: a gap needs its reason"
        if entry.status == "partly":
            assert entry.note, f"{entry.module}: partly, but what is left?"


@pytest.mark.parametrize(
    ("os_name", "module"),
    [
        ("windows", "sysadmin/filezilla"),
        ("windows", "sysadmin/winscp"),
        ("windows", "sysadmin/cyberduck"),
        ("windows", "windows/autologon"),
        ("windows", "sysadmin/unattended"),
        ("windows", "sysadmin/mRemoteNG"),
        ("windows", "sysadmin/rdpmanager"),
        ("windows", "svn/tortoise"),
        ("windows", "databases/postgresql"),
        ("linux", "sysadmin/filezilla"),
        ("linux", "sysadmin/fstab"),
        ("linux", "sysadmin/cli"),
        ("linux", "mails/clawsmail"),
    ],
)
def test_high_priority_stores_are_covered(os_name: str, module: str) -> None:
    entry = next(e for e in CATALOGUE[os_name] if e.module == module)
    assert entry.status == "covered"


def test_every_finder_appears_on_the_page() -> None:
    page = render()
    for os_name in CATALOGUE:
        for name in finders(os_name):
            assert f"`{name}`" in page


def test_the_page_is_generated_from_the_data() -> None:
    assert PAGE.read_text(encoding="utf-8") == render(), (
        "docs/credential-stores.md is stale: run "
        "python -m agent.facts.probes.credentials.stores.catalogue docs/credential-stores.md"
    )
