"""Credential stores of browsers: Chromium and Firefox logins and cookies, never a secret."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from agent.facts.context import Context, ParseError
from agent.facts.probes.credentials.settings import Organisation
from agent.facts.probes.credentials.stores import browsers, mail, os_stores
from agent.facts.probes.credentials.stores.appdata_parse import (
    org_token,
    parse_mozilla_logins,
    parse_profiles_ini,
    site_hits,
)
from agent.facts.probes.credentials.stores.browsers_parse import (
    chromium_login_hits,
    cookie_hits,
    parse_local_state,
)
from tests.unit.test_probe_fixtures import (
    TEST_ORGANISATION,
    check_every_os_has_a_matching_and_a_clean_case,
    check_recorded_store_case,
    run_finders,
    scan_settings,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "credentials"
SAMPLES = FIXTURES / "samples"
# The recorded cases of these three run through all of their finders: none may find more.
APP_AND_OS_STORES = (browsers, mail, os_stores)
ORG = TEST_ORGANISATION


# -- recorded cases, run through the browser, mail and OS-store finders together ------------
CASES = sorted(case for case in FIXTURES.glob("*/*.json") if case.name.startswith("browsers_"))


@pytest.mark.parametrize("case", CASES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_recorded_case(case: Path) -> None:
    check_recorded_store_case(case, APP_AND_OS_STORES)


def test_every_os_has_a_matching_and_a_clean_case() -> None:
    check_every_os_has_a_matching_and_a_clean_case(CASES, "browsers_")


# -- matching free text ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "LegacyGeneric:target=git:https://git.example.ac.uk",
            ("git.example.ac.uk", "example.ac.uk"),
        ),
        ("Domain:target=files.example.ac.uk", ("files.example.ac.uk", "example.ac.uk")),
        ("SSPI:alice.smith@Example.AC.UK", ("alice.smith@Example.AC.UK", "example.ac.uk")),
        ("ab1234@AD.EXAMPLE.AC.UK", ("ab1234@AD.EXAMPLE.AC.UK", "AD.EXAMPLE.AC.UK")),
        ("krbtgt/AD.EXAMPLE.AC.UK", ("AD.EXAMPLE.AC.UK", "AD.EXAMPLE.AC.UK")),
        (
            "tenant 11111111-2222-4333-8444-555555555555",
            ("11111111-2222-4333-8444-555555555555",) * 2,
        ),
        ("the host idp.example.ac.uk.", ("idp.example.ac.uk", "example.ac.uk")),
        ("https://example.ac.uk.evil.com/login", None),
        ("https://sso.example.ac.uk-evil.com/", None),
        ("notexample.ac.uk", None),
        ("a_example.ac.uk", None),
        ("alice@example.ac.uk@evil.com", None),
        ("11111111-2222-4333-8444-555555555556", None),
        ("EXAMPLE\\ab1234", None),
        ("", None),
        (None, None),
    ],
)
def test_org_token(text: str | None, expected: tuple[str, str] | None) -> None:
    assert org_token(text, ORG) == expected


# -- browsers ----------------------------------------------------------------------------------
def test_chromium_login_hits_prefer_the_address_and_skip_never_save_rows() -> None:
    rows = [
        ("https://idp.example.ac.uk/idp/profile/SAML2/Redirect/SSO", "ab1234", 0),
        ("https://login.microsoftonline.com/", "alice.smith@example.ac.uk", 0),
        ("https://moodle.example.ac.uk/login/index.php", "", 1),
        ("https://login.example.ac.uk.evil.com/", "ab1234@example.ac.uk.evil.com", 0),
        ("android://hash@com.example.app/", None, 0),
    ]
    assert chromium_login_hits(rows, ORG) == [
        ("saved_login", "idp.example.ac.uk", "example.ac.uk"),
        ("saved_login", "alice.smith@example.ac.uk", "example.ac.uk"),
    ]


@pytest.mark.parametrize(
    ("host", "name", "found"),
    [
        (".example.ac.uk", "_shibsession_6465", True),
        ("idp.example.ac.uk", "shib_idp_session", True),
        ("login.example.ac.uk", "CASTGC", True),
        ("moodle.example.ac.uk", "MoodleSession", True),
        ("sharepoint.example.ac.uk", "FedAuth", True),
        ("portal.example.ac.uk", "JSESSIONID", True),
        ("www.example.ac.uk", "_ga", False),
        ("www.example.ac.uk", "cookieconsent", False),
        (".example.ac.uk.evil.com", "SESSION", False),
        (".login.microsoftonline.com", "ESTSAUTHPERSISTENT", False),
    ],
)
def test_cookie_hits(host: str, name: str, found: bool) -> None:
    hits = cookie_hits([(host, name)], ORG)
    assert hits == ([("sso_cookie", host.lstrip("."), "example.ac.uk")] if found else [])


def test_local_state_keeps_only_the_profile_accounts() -> None:
    text = json.dumps(
        {
            "os_crypt": {"encrypted_key": "CANARY-chrome-local-state"},
            "profile": {
                "info_cache": {
                    "Default": {"name": "Person 1", "user_name": "alice@gmail.test"},
                    "Profile 1": {"name": "Work", "user_name": ""},
                    "Profile 2": "junk",
                }
            },
        }
    )
    accounts = parse_local_state(text)
    assert accounts == {"Default": "alice@gmail.test", "Profile 1": None, "Profile 2": None}
    assert parse_local_state('{"browser": {}}') == {}
    with pytest.raises(ParseError):
        parse_local_state('{"os_crypt": ')


def test_profiles_ini_lists_each_profile_once() -> None:
    text = (
        "[Install4F96D1932A9F858E]\nDefault=Profiles/abcd.default-release\nLocked=1\n\n"
        "[Profile1]\nName=default\nIsRelative=1\nPath=Profiles/xyz.default\n\n"
        "[Profile0]\nName=default-release\nIsRelative=1\nPath=Profiles/abcd.default-release\n\n"
        "[Profile2]\nName=usb\nIsRelative=0\nPath=D:\\Profiles\\usb\n\n"
        "[General]\nStartWithLastProfile=1\nVersion=2\n"
    )
    assert parse_profiles_ini(text) == [
        ("Profiles/abcd.default-release", True),
        ("Profiles/xyz.default", True),
        ("D:\\Profiles\\usb", False),
    ]
    with pytest.raises(ParseError):
        parse_profiles_ini("Path=before any section\n")


def test_mozilla_logins_give_sites_only() -> None:
    text = json.dumps(
        {
            "logins": [
                {
                    "hostname": "https://idp.example.ac.uk",
                    "formSubmitURL": "https://idp.example.ac.uk",
                    "encryptedUsername": "CANARY-firefox-user",
                    "encryptedPassword": "CANARY-firefox-pass",
                },
                {"hostname": "imap://imap.example.ac.uk", "formSubmitURL": None},
                {"hostname": "https://www.example.ac.uk.evil.com", "formSubmitURL": ""},
            ]
        }
    )
    sites = parse_mozilla_logins(text)
    assert sites == [
        "https://idp.example.ac.uk",
        "imap://imap.example.ac.uk",
        "https://www.example.ac.uk.evil.com",
    ]
    assert site_hits(sites, ORG) == [
        ("saved_login", "idp.example.ac.uk", "example.ac.uk"),
        ("saved_login", "imap.example.ac.uk", "example.ac.uk"),
    ]
    with pytest.raises(ParseError):
        parse_mozilla_logins('{"nextId": 1}')


# -- the real Context on a copy of the reference Login Data --------------------------------------
SAFE_COLUMNS = {"origin_url", "username_value", "blacklisted_by_user", "host_key", "host", "name"}


class WatchedContext(Context):
    """A real Context that keeps every SQL statement and every row it handed out."""

    def __init__(self, home: Path, org: Organisation) -> None:
        self.settings = replace(scan_settings({"homes": [str(home)]}), organisation=org)
        super().__init__()
        self.queries: list[tuple[str, str, list[tuple[object, ...]]]] = []

    def sqlite_rows(
        self, path: str, sql: str, params: tuple[object, ...] = ()
    ) -> list[tuple[object, ...]]:
        rows = super().sqlite_rows(path, sql, params)
        self.queries.append((path, sql, rows))
        return rows


def _selected_columns(sql: str) -> set[str]:
    head = sql.split(" FROM ", 1)[0].removeprefix("SELECT ").removeprefix("DISTINCT ")
    return {column.strip() for column in head.split(",")}


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="POSIX paths")
def test_real_sqlite_never_selects_secret_columns(tmp_path: Path) -> None:
    home = tmp_path / "alice"
    profile = home / ".config" / "google-chrome" / "Default"
    (profile / "Network").mkdir(parents=True)
    login_data = profile / "Login Data"
    shutil.copyfile(SAMPLES / "chrome_Login_Data.sqlite", login_data)
    with sqlite3.connect(login_data) as db:
        db.execute(
            "UPDATE logins SET password_value = CAST('v10CANARY-chrome-7c1e9a' || rowid AS BLOB)"
        )
        db.execute(
            "INSERT INTO logins (origin_url, username_value, password_value, signon_realm,"
            " date_created, blacklisted_by_user, scheme) VALUES (?, ?, ?, ?, 0, 0, 0)",
            (
                "https://idp.example.ac.uk/",
                "ab1234",
                b"v10CANARY-chrome-5d2f0b",
                "https://idp.example.ac.uk/",
            ),
        )
    with sqlite3.connect(profile / "Network" / "Cookies") as db:
        db.execute(
            "CREATE TABLE cookies (creation_utc INTEGER NOT NULL, host_key TEXT NOT NULL,"
            " top_frame_site_key TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL,"
            " encrypted_value BLOB NOT NULL, path TEXT NOT NULL, expires_utc INTEGER NOT NULL)"
        )
        db.executemany(
            "INSERT INTO cookies VALUES (0, ?, '', ?, ?, ?, '/', 0)",
            [
                (
                    ".example.ac.uk",
                    "_shibsession_64",
                    "CANARY-cookie-4e8a11",
                    b"v10CANARY-cookie-9b0c",
                ),
                ("www.example.ac.uk", "_ga", "GA1.2.CANARY-cookie-77", b""),
            ],
        )
    (profile.parent / "Local State").write_text(
        json.dumps({"os_crypt": {"encrypted_key": "CANARY-chrome-key-3a9f"}}), encoding="utf-8"
    )
    firefox = home / ".mozilla" / "firefox"
    (firefox / "p1.default").mkdir(parents=True)
    (firefox / "profiles.ini").write_text("[Profile0]\nIsRelative=1\nPath=p1.default\n")
    with sqlite3.connect(firefox / "p1.default" / "cookies.sqlite") as db:
        db.execute(
            "CREATE TABLE moz_cookies (id INTEGER PRIMARY KEY, name TEXT, value TEXT, host TEXT)"
        )
        db.execute(
            "INSERT INTO moz_cookies VALUES (1, ?, ?, ?)",
            ("MoodleSession", "CANARY-fx-61c2", "moodle.example.ac.uk"),
        )
    before = login_data.read_bytes()
    with sqlite3.connect(login_data) as db:  # the canaries really are in the secret columns
        secrets = [row[0] for row in db.execute("SELECT password_value FROM logins")]
    assert all(b"CANARY" in blob for blob in secrets if blob)

    org = Organisation(domains=("example.ac.uk", "example-uni.ac.uk"))
    ctx = WatchedContext(home, org)
    data = run_finders(ctx, ctx.settings, browsers.FINDERS.linux)

    assert login_data.read_bytes() == before, "the browser database was changed"
    assert {q[1] for q in ctx.queries} == {
        browsers.CHROMIUM_LOGINS_SQL,
        browsers.CHROMIUM_COOKIES_SQL,
        browsers.FIREFOX_COOKIES_SQL,
    }
    for _, sql, rows in ctx.queries:
        assert _selected_columns(sql) <= SAFE_COLUMNS, sql
        for row in rows:
            for cell in row:
                assert not isinstance(cell, bytes), "a BLOB column reached Python"
                assert "CANARY" not in str(cell)
    assert "CANARY" not in json.dumps(data)
    got = [(f["kind"], f["store"], f["location"], f["identity"]) for f in data["findings"]]
    assert got == [
        (
            "saved_login",
            "chrome",
            "~/.config/google-chrome/Default/Login Data",
            "ab1234@example-uni.ac.uk",
        ),
        (
            "saved_login",
            "chrome",
            "~/.config/google-chrome/Default/Login Data",
            "alice.smith@example-uni.ac.uk",
        ),
        (
            "saved_login",
            "chrome",
            "~/.config/google-chrome/Default/Login Data",
            "idp.example.ac.uk",
        ),
        (
            "sso_cookie",
            "chrome",
            "~/.config/google-chrome/Default/Network/Cookies",
            "example.ac.uk",
        ),
        (
            "sso_cookie",
            "firefox",
            "~/.mozilla/firefox/p1.default/cookies.sqlite",
            "moodle.example.ac.uk",
        ),
    ]
    assert data["not_inspected"] == []
