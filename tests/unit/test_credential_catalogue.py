"""The credential-store catalogue beside LaZagne: data matches the finders, page is fresh."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.facts.probes.credentials.stores.catalogue import SECTIONS, STATUSES, finders, render

PAGE = Path(__file__).resolve().parents[2] / "docs" / "credential-stores.md"
# Module counts of LaZagne @858ff6f: manage_modules.py plus the three list modules.
LAZAGNE_MODULES = {"Windows": 56, "Linux": 29, "macOS": 6}
BY_TITLE = {section.title: section for section in SECTIONS}


@pytest.mark.parametrize("title", sorted(BY_TITLE))
def test_every_lazagne_module_once(title: str) -> None:
    modules = [entry.module for entry in BY_TITLE[title].entries]
    assert len(modules) == LAZAGNE_MODULES[title]
    assert len(set(modules)) == len(modules)


@pytest.mark.parametrize("title", sorted(BY_TITLE))
def test_statuses_name_real_finders_of_that_os(title: str) -> None:
    """A covered store names finders the agent runs on that OS; a gap says why."""
    known = finders(BY_TITLE[title])
    for entry in BY_TITLE[title].entries:
        assert entry.status in STATUSES, entry
        missing = [f for f in entry.finders if f not in known]
        assert not missing, f"{entry.module}: no finder {missing} on {title}"
        if entry.status in ("covered", "partly", "scan"):
            assert entry.finders, f"{entry.module}: {entry.status} without a finder"
        else:
            assert not entry.finders and entry.note, f"{entry.module}: a gap needs its reason"
        if entry.status == "partly":
            assert entry.note, f"{entry.module}: partly, but what is left?"


@pytest.mark.parametrize(
    ("title", "module"),
    [
        ("Windows", "sysadmin/filezilla"),
        ("Windows", "sysadmin/winscp"),
        ("Windows", "sysadmin/cyberduck"),
        ("Windows", "windows/autologon"),
        ("Windows", "sysadmin/unattended"),
        ("Windows", "sysadmin/mRemoteNG"),
        ("Windows", "sysadmin/rdpmanager"),
        ("Windows", "svn/tortoise"),
        ("Windows", "databases/postgresql"),
        ("Linux", "sysadmin/filezilla"),
        ("Linux", "sysadmin/fstab"),
        ("Linux", "sysadmin/cli"),
        ("Linux", "mails/clawsmail"),
    ],
)
def test_high_priority_stores_are_covered(title: str, module: str) -> None:
    entry = next(e for e in BY_TITLE[title].entries if e.module == module)
    assert entry.status == "covered"


def test_every_finder_appears_on_the_page() -> None:
    page = render()
    for section in SECTIONS:
        for name in finders(section):
            assert f"`{name}`" in page


def test_the_page_is_generated_from_the_data() -> None:
    assert PAGE.read_text(encoding="utf-8") == render(), (
        "docs/credential-stores.md is stale: run "
        "python -m agent.facts.probes.credentials.stores.catalogue docs/credential-stores.md"
    )
