"""The file scan on password-manager CSV exports and Azure storage connection strings, in the
shapes the tools write (tests/fixtures/credentials/samples/exports): kind, place and identity,
never the password or key."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest

from agent.facts.context import Context
from agent.facts.probes import credentials
from agent.facts.probes.credentials import stores
from agent.facts.probes.credentials.files import FINDERS
from agent.facts.probes.credentials.files_exports import export_columns
from agent.facts.probes.credentials.files_rules import OrgIndex, find_in_text
from agent.facts.runner import run_probe
from tests.unit.test_probe_fixtures import FIXTURES, TEST_ORGANISATION, scan_settings

EXPORTS = FIXTURES / "credentials" / "samples" / "exports"
INDEX = OrgIndex(TEST_ORGANISATION)
# fixture -> the organisation's credential in it (kind, identity); None: nothing of ours
EXPECTED: dict[str, tuple[str, str] | None] = {
    "bitwarden.csv": ("password_in_file", "mail.example.ac.uk"),
    "1password.csv": ("password_in_file", "vpn.example.ac.uk"),
    "lastpass.csv": ("password_in_file", "portal.example.ac.uk"),
    "chrome.csv": ("password_in_file", "login.example.ac.uk"),
    "firefox.csv": ("password_in_file", "moodle.example.ac.uk"),
    "keepassxc.csv": ("password_in_file", "hpc.example.ac.uk"),
    "azure-storage.ini": ("token_in_file", "files.example.ac.uk"),
    "appsettings.json": ("token_in_file", "uploads.example.ac.uk"),
    "azure-storage-personal.ini": None,
}


def planted(name: str) -> tuple[bytes, list[str]]:
    """A fixture with fresh canaries for its passwords or keys (base64-like for the keys)."""
    ours, theirs = (f"CANARY-{secrets.token_hex(8)}+/Q==" for _ in range(2))
    text = (EXPORTS / name).read_text(encoding="utf-8")
    assert "ORG-PASSWORD" in text or "OTHER-PASSWORD" in text
    text = text.replace("ORG-PASSWORD", ours).replace("OTHER-PASSWORD", theirs)
    return text.encode("utf-8"), [ours, theirs]


def test_every_fixture_is_listed() -> None:
    assert sorted(p.name for p in EXPORTS.iterdir()) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_the_organisations_credential_is_found_and_no_value_shown(name: str) -> None:
    data, values = planted(name)
    found = find_in_text(data, INDEX)
    expected = EXPECTED[name]
    assert [(f.kind, f.identity) for f in found] == ([] if expected is None else [expected])
    assert not any(value in repr(found) for value in values)


@pytest.mark.parametrize(
    ("header", "columns"),
    [
        (b"name,url,username,password,note\n", (3, [1, 2])),
        (b"url,username,password,totp,extra,name,grouping,fav\r\n", (2, [0, 1])),
        (b'"group","title","username","password","url","notes"\n', (3, [2, 4])),
        (b"\xef\xbb\xbfname,url,username,password\n", (3, [1, 2])),
        (b"[db]\npassword = x\n", None),  # a config file, not an export
        (b"id,password_hint,notes\n", None),  # no password column by that name
        (b"name,password\n", None),  # no site or login: nothing to name it by
    ],
)
def test_export_headers(header: bytes, columns: tuple[int, list[int]] | None) -> None:
    assert export_columns(header.lower()) == columns


def test_rows_without_a_password_or_with_a_placeholder_are_not_findings() -> None:
    text = (
        b"name,url,username,password,note\n"
        b"intranet,https://intranet.example.ac.uk/,asmith,,\n"
        b"wiki,https://wiki.example.ac.uk/,asmith,********,\n"
    )
    assert find_in_text(text, INDEX) == []


def plant_all(folder: Path) -> list[str]:
    """Every fixture in `folder`, with fresh canaries; returns the planted values."""
    folder.mkdir(parents=True)
    values: list[str] = []
    for name in EXPECTED:
        data, planted_values = planted(name)
        (folder / name).write_bytes(data)
        values += planted_values
    return values


def test_a_home_with_exports_reports_place_and_identity_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stores, "finders_for", lambda ctx: FINDERS.pick(ctx))
    home = tmp_path / "alice"
    values = plant_all(home / "backup" / "old-laptop")
    result = run_probe(Context(), credentials.probe(scan_settings({"homes": [str(home)]})))
    assert result.status == "ok" and result.data is not None
    found = {(f["location"], f["kind"], f["identity"]) for f in result.data["findings"]}
    assert found == {
        (f"~/backup/old-laptop/{name}", *expected)
        for name, expected in EXPECTED.items()
        if expected is not None
    }
    reported = json.dumps(result.data)
    assert not any(value in reported for value in values)


def test_an_export_where_the_export_finder_looks_is_reported_once(tmp_path: Path) -> None:
    """~/Downloads/*.csv is the password-export finder's (stores/vaults.py): the content scan
    leaves those rows to it, and still reads the folder's other files."""
    home = tmp_path / "alice"
    values = plant_all(home / "Downloads")
    result = run_probe(Context(), credentials.probe(scan_settings({"homes": [str(home)]})))
    assert result.data is not None
    found = {
        (f["location"], f["kind"])
        for f in result.data["findings"]
        if f["location"].startswith("~/Downloads/")
    }
    csvs = sorted(name for name in EXPECTED if name.endswith(".csv"))
    assert found == {(f"~/Downloads/{name}", "password_export") for name in csvs} | {
        ("~/Downloads/azure-storage.ini", "token_in_file"),
        ("~/Downloads/appsettings.json", "token_in_file"),
    }
    reported = json.dumps(result.data)
    assert not any(value in reported for value in values)
