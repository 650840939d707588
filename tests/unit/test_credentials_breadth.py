"""The wider store catalogue: FTP/SFTP and remote-desktop clients, system logon and mounts,
database clients, Subversion, Claws Mail, shell histories, vaults, chat apps, synced folders and
Chromium variants. Recorded cases in the real formats; never a secret in the result."""

from __future__ import annotations

import json
import shutil
import sqlite3
import sys
from pathlib import Path
from types import ModuleType

import pytest

from agent.facts.context import Context
from agent.facts.probes.credentials.files_walk import RULES, STORE
from agent.facts.probes.credentials.per_os import PerOs
from agent.facts.probes.credentials.remedies import REMEDIES, STORE_REMEDIES, remedy_for
from agent.facts.probes.credentials.stores import (
    browsers,
    clawsmail,
    collaboration,
    databases,
    ftp,
    histories,
    mail,
    remote_desktop,
    subversion,
    system_config,
    vaults,
)
from tests.unit.test_probe_fixtures import (
    TEST_ORGANISATION,
    check_recorded_module_case,
    run_finders,
    scan_settings,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "credentials"
SAMPLES = FIXTURES / "samples"
ORG = TEST_ORGANISATION
MODULES: dict[str, ModuleType] = {
    "ftp": ftp,
    "remote_desktop": remote_desktop,
    "system_config": system_config,
    "databases": databases,
    "subversion": subversion,
    "clawsmail": clawsmail,
    "histories": histories,
    "vaults": vaults,
    "collaboration": collaboration,
}


def _module_of(case: Path) -> ModuleType:
    names = [name for name in MODULES if case.name.startswith(name + "_")]
    return MODULES[max(names, key=len)]


CASES = sorted(
    p for p in FIXTURES.glob("*/*.json") if any(p.name.startswith(n + "_") for n in MODULES)
)


# ------------------------------------------------------------------------------ recorded cases
@pytest.mark.parametrize("case", CASES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_recorded_case(case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Through the real probe and runner with only the case's module; canaries never leak."""
    check_recorded_module_case(case, _module_of(case), monkeypatch, plants_canaries=True)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_every_module_has_a_finding_case_and_a_clean_one(name: str) -> None:
    """Each store family finds something in one recording and nothing in another."""
    mine = [c for c in CASES if _module_of(c) is MODULES[name]]
    findings = [json.loads(c.read_text())["expect"]["data"]["findings"] for c in mine]
    assert any(findings), f"{name}: no case with findings"
    assert [] in findings, f"{name}: no case that must find nothing"
    for os_name in ("linux", "darwin", "windows"):
        has_finders = bool(getattr(MODULES[name].FINDERS, os_name))
        covered = any(c.parent.name == os_name for c in mine)
        assert covered or not has_finders, f"{name}: finders on {os_name} but no recording"


@pytest.mark.skipif(sys.platform != "linux", reason="reads a real Linux home")
def test_a_history_past_the_file_limit_is_noted(tmp_path: Path) -> None:
    home = tmp_path / "alice"
    home.mkdir()
    line = "sshpass -p CANARY-big ssh ab1234@login.example.ac.uk\n"
    (home / ".bash_history").write_text(line + "ls\n" * 400)
    settings = scan_settings({"homes": [str(home)], "max_file_bytes": 1000})
    data = run_finders(Context(), settings, (histories.find_histories,))
    assert [f["location"] for f in data["findings"]] == ["~/.bash_history line 1"]
    assert [n["location"] for n in data["not_inspected"]] == ["~/.bash_history"]
    assert "CANARY" not in json.dumps(data)


# ------------------------------------------------------------------------------ remedies
def test_new_kinds_and_stores_have_their_own_remedy() -> None:
    recorded = "\n".join(c.read_text() for c in CASES)
    kinds = {k for k in REMEDIES if f'"kind": "{k}"' in recorded}
    assert {"autologon", "password_in_history", "cloud_sync_folder", "saved_session"} <= kinds
    for store in ("filezilla", "winscp", "coreftp", "ftp_navigator", "pgpass", "rdcman"):
        assert remedy_for("saved_session", store) == STORE_REMEDIES[store]


# ------------------------------------------------------------------------------ Chromium variants
@pytest.mark.skipif(sys.platform != "linux", reason="reads a real Linux home")
def test_chromium_variants_over_a_real_home(tmp_path: Path) -> None:
    """Vivaldi (profile folders) and Opera (the folder is the profile) through the real
    Context: their saved organisation logins are found, their passwords never read."""
    home = tmp_path / "alice"
    for profile in (home / ".config/vivaldi/Default", home / ".config/opera"):
        profile.mkdir(parents=True)
        shutil.copyfile(SAMPLES / "chrome_Login_Data.sqlite", profile / "Login Data")
        with sqlite3.connect(profile / "Login Data") as db:
            db.execute("UPDATE logins SET password_value = CAST('CANARY-v' || rowid AS BLOB)")
            db.execute(
                "INSERT INTO logins (origin_url, username_value, password_value, signon_realm,"
                " date_created, blacklisted_by_user, scheme) VALUES (?, ?, ?, ?, 0, 0, 0)",
                ("https://idp.example.ac.uk/", "ab1234", b"CANARY-x", "https://idp.example.ac.uk/"),
            )
    data = run_finders(Context(), scan_settings({"homes": [str(home)]}), (browsers.find_chromium,))
    assert "CANARY" not in json.dumps(data)
    found = {(f["store"], f["location"], f["identity"]) for f in data["findings"]}
    assert ("vivaldi", "~/.config/vivaldi/Default", None) not in found
    assert {(s, loc) for s, loc, ident in found if ident == "idp.example.ac.uk"} == {
        ("vivaldi", "~/.config/vivaldi/Default/Login Data"),
        ("opera", "~/.config/opera/Login Data"),
    }


def _parts(relative: str) -> tuple[str, ...]:
    return tuple(relative.lower().split("/"))


@pytest.mark.parametrize("os_name", ["linux", "darwin", "windows"])
def test_every_browser_folder_the_scan_skips_has_a_reader(os_name: str) -> None:
    """The content scan skips a browser's folder only when a store module reads it, and
    skips every folder a store module reads (no folder read twice, none skipped unread)."""
    rules = getattr(RULES, os_name)
    roots = [_parts(r) for _, r in getattr(browsers.CHROMIUM_ROOTS, os_name)]
    roots += [_parts(r) for _, r in getattr(browsers.FIREFOX_ROOTS, os_name)]
    roots += [_parts(r) for _, r in getattr(mail.THUNDERBIRD_ROOTS, os_name)]
    roots += [_parts(r) for r in getattr(browsers.UC_BROWSER, os_name)]
    for root in roots:
        skipped = any(rules.folder(root[:n]) == STORE for n in range(1, len(root) + 1))
        assert skipped, f"{'/'.join(root)} is read by the browser finders but also scanned"
    stores = [s for s, _ in getattr(browsers.CHROMIUM_ROOTS, os_name)]
    stores += [s for s, _ in getattr(browsers.FIREFOX_ROOTS, os_name)]
    stores += ["user data", "ucbrowser", "moonchild", "dragon", "epyrus", "interlink"]
    browser_words = tuple({s.replace("_", " ") for s in stores})
    entries = [p for p, why in rules.under_home.items() if why == STORE]
    entries += [p for p, why in rules.anywhere.items() if why == STORE]
    for entry in entries:
        if not any(word in "/".join(entry) for word in browser_words):
            continue
        read = any(
            root[i : i + len(entry)] == entry  # the entry is a root or one of its folders
            or root[-k:] == entry[:k]  # the entry is inside a root (firefox/profiles)
            for root in roots
            for i in range(len(root))
            for k in range(1, len(entry) + 1)
        )
        assert read, f"{'/'.join(entry)} is skipped as a browser store but no finder reads it"


def test_store_modules_pick_per_os() -> None:
    for module in MODULES.values():
        assert isinstance(module.FINDERS, PerOs)
