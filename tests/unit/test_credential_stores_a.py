"""Credential stores part A (browsers, mail and work accounts, OS stores): parsers and cases."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import pytest

from agent.facts.context import Context, FactUnavailable, ParseError
from agent.facts.probes.credentials.homes import list_homes
from agent.facts.probes.credentials.scan import ScanState
from agent.facts.probes.credentials.settings import Organisation, ScanSettings
from agent.facts.probes.credentials.stores import browsers, mail, os_stores
from agent.facts.probes.credentials.stores.appdata import (
    Finder,
    org_token,
    parse_mozilla_logins,
    parse_profiles_ini,
    site_hits,
)
from agent.facts.probes.credentials.stores.browsers import (
    chromium_login_hits,
    cookie_hits,
    parse_local_state,
)
from agent.facts.probes.credentials.stores.mail import (
    goa_hits,
    home_sids,
    mac_account_hits,
    parse_goa,
    parse_prefs,
    registry_hits,
    thunderbird_hits,
)
from agent.facts.probes.credentials.stores.os_stores_parse import (
    KeychainItem,
    credential_hits,
    keychain_hits,
    parse_bus_reply,
    parse_cmdkey,
    parse_credman,
    parse_keychain_dump,
    secret_item_hits,
)
from tests.replay import ReplayContext
from tests.unit.test_probe_fixtures import TEST_ORGANISATION, assert_matches, scan_settings

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "credentials"
SAMPLES = FIXTURES / "samples"
MODULES = (browsers, mail, os_stores)
CASES = sorted(
    case
    for case in FIXTURES.glob("*/*.json")
    if case.name.startswith(("browsers_", "mail_", "os_stores_"))
)
ORG = TEST_ORGANISATION


def finders_a(os_name: str) -> tuple[Finder, ...]:
    """Part A's finders for an OS, in the order the lead registers them."""
    return tuple(finder for module in MODULES for finder in module.FINDERS[os_name])


def run_finders(
    ctx: Context, settings: ScanSettings, finders: tuple[Finder, ...]
) -> dict[str, Any]:
    """What the credentials probe would report from these finders alone, as JSON data."""
    state = ScanState(settings=settings, homes=list_homes(ctx, settings.homes))
    for finder in finders:
        finder(ctx, state)
    findings = sorted(state.findings, key=lambda f: (f.store, f.location, f.identity or ""))
    return {
        "findings": [asdict(f) for f in findings],
        "not_inspected": [asdict(n) for n in state.not_inspected],
    }


# -- recorded cases, run through part A's finders (the whole probe runs them once registered) --
@pytest.mark.parametrize("case", CASES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_recorded_case_with_part_a_finders(case: Path) -> None:
    text = case.read_text(encoding="utf-8")
    spec = json.loads(text)
    recording = spec["context"]
    assert recording["os"] == case.parent.name
    assert "CANARY-" in text, "every case plants canary secrets"
    ctx = ReplayContext(recording)
    data = run_finders(ctx, scan_settings(spec.get("scan", {})), finders_a(recording["os"]))
    assert "CANARY" not in json.dumps(data), "a canary secret reached the report"
    assert_matches(data, spec["expect"]["data"])
    for finding in data["findings"]:
        assert len(finding["fingerprint"]) == 32


def test_every_os_has_a_matching_and_a_clean_case_per_module() -> None:
    for os_name in ("linux", "darwin", "windows"):
        for module in ("browsers_", "mail_", "os_stores_"):
            cases = [c for c in CASES if c.parent.name == os_name and c.name.startswith(module)]
            expects = [json.loads(c.read_text())["expect"]["data"]["findings"] for c in cases]
            assert any(expects), f"no {module} case with findings on {os_name}"
            assert [] in expects or any(
                "lookalike" in c.name or "other_org" in c.name for c in cases
            ), f"no {module} case that must not match on {os_name}"


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


# -- mail and work accounts --------------------------------------------------------------------
THUNDERBIRD_PREFS = """// Mozilla User Preferences
user_pref("mail.identity.id1.useremail", "alice.smith@example.ac.uk");
user_pref("mail.server.server1.hostname", "imap.example.ac.uk");
user_pref("mail.server.server1.userName", "ab1234");
user_pref("mail.server.server1.password", "CANARY-thunderbird-pref");
user_pref("mail.server.server1.port", 993);
user_pref("mail.smtpserver.smtp1.hostname", "smtp.example.ac.uk");
user_pref("mail.identity.id2.fullName", "Alice \\"Al\\" Smith");
user_pref("broken line
"""


def test_thunderbird_prefs_keep_only_account_names() -> None:
    prefs = parse_prefs(THUNDERBIRD_PREFS)
    assert prefs == {
        "mail.identity.id1.useremail": "alice.smith@example.ac.uk",
        "mail.server.server1.hostname": "imap.example.ac.uk",
        "mail.server.server1.userName": "ab1234",
        "mail.smtpserver.smtp1.hostname": "smtp.example.ac.uk",
    }
    assert thunderbird_hits(prefs, ORG) == [
        ("mail_account", "alice.smith@example.ac.uk", "example.ac.uk")
    ]
    servers_only = {k: v for k, v in prefs.items() if "identity" not in k}
    assert thunderbird_hits(servers_only, ORG) == [
        ("mail_account", "imap.example.ac.uk", "example.ac.uk"),
        ("mail_account", "smtp.example.ac.uk", "example.ac.uk"),
    ]


def test_gnome_online_accounts() -> None:
    text = (
        "[Account account_1]\nProvider=kerberos\nIdentity=ab1234@AD.EXAMPLE.AC.UK\n"
        "Realm=AD.EXAMPLE.AC.UK\n\n[Account account_2]\nProvider=owncloud\nIdentity=alice\n"
        "Uri=https://cloud.example.ac.uk/remote.php/webdav/\n\n"
        "[Account account_3]\nProvider=google\nIdentity=alice@gmail.test\n"
    )
    accounts = parse_goa(text)
    assert goa_hits(accounts, ORG) == [
        ("online_account", "ab1234@AD.EXAMPLE.AC.UK", "AD.EXAMPLE.AC.UK"),
        ("online_account", "https://cloud.example.ac.uk/remote.php/webdav/", "example.ac.uk"),
    ]
    with pytest.raises(ParseError):
        parse_goa("Identity=no section\n")


def test_mac_internet_accounts() -> None:
    rows = [("alice.smith@example.ac.uk", "Exchange"), (None, "On My Mac"), ("a@icloud.test", "")]
    assert mac_account_hits(rows, ORG) == [
        ("online_account", "alice.smith@example.ac.uk", "example.ac.uk")
    ]


def test_registry_hits_read_named_values_only() -> None:
    data = {
        "Outlook": {
            "Key": "HKEY_USERS\\S-1\\...\\00000002",
            "Account Name": "ab1234@example.ac.uk",
            "IMAP User": "ab1234",
            "IMAP Password": "CANARY-outlook-registry",
        },
        "Office": None,
        "Workplace": [
            {
                "Key": "JoinInfo\\A",
                "UserEmail": None,
                "TenantId": "11111111-2222-4333-8444-555555555555",
            },
            {
                "Key": "JoinInfo\\B",
                "UserEmail": "a@contoso.test",
                "TenantId": "99999999-2222-4333-8444-555555555555",
            },
        ],
    }
    assert registry_hits(data, ORG) == [
        (
            "outlook",
            "HKEY_USERS\\S-1\\...\\00000002",
            ("mail_account", "ab1234@example.ac.uk", "example.ac.uk"),
        ),
        (
            "work_or_school",
            "JoinInfo\\A",
            (
                "work_account",
                "11111111-2222-4333-8444-555555555555",
                "11111111-2222-4333-8444-555555555555",
            ),
        ),
    ]
    with pytest.raises(ParseError):
        registry_hits({"Outlook": ["not an object"]}, ORG)


def test_home_sids_match_profile_paths_case_insensitively() -> None:
    profiles = [
        {"Sid": "S-1-5-18", "Path": "C:\\WINDOWS\\system32\\config\\systemprofile"},
        {"Sid": "S-1-5-21-1-2-3-1001", "Path": "C:\\Users\\Alice"},
    ]
    assert home_sids(profiles, ["C:\\Users\\alice\\", "C:\\Users\\bob"]) == {
        "C:\\Users\\alice\\": "S-1-5-21-1-2-3-1001"
    }
    assert home_sids(None, ["C:\\Users\\alice"]) == {}


# -- OS credential stores ----------------------------------------------------------------------
CMDKEY_ENGLISH = (
    "\r\nCurrently stored credentials:\r\n\r\n"
    "    Target: LegacyGeneric:target=git:https://git.example.ac.uk\r\n    Type: Generic \r\n"
    "    User: ab1234\r\n    Local machine persistence\r\n    \r\n"
    "    Target: Domain:target=files.example.ac.uk\r\n    Type: Domain Password\r\n"
    "    User: EXAMPLE\\ab1234\r\n    \r\n"
    "    Target: LegacyGeneric:target=no-user\r\n    Type: Generic \r\n    \r\n"
)
CMDKEY_FRENCH = (
    "\r\nInformations d'identification actuellement stockées :\r\n\r\n"
    "    Cible : Domain:target=files.example.ac.uk\r\n    Type : Mot de passe du domaine\r\n"
    "    Utilisateur : EXAMPLE\\ab1234\r\n    \r\n"
)


def test_cmdkey_is_parsed_by_layout_in_any_language() -> None:
    assert parse_cmdkey(CMDKEY_ENGLISH) == [
        ("LegacyGeneric:target=git:https://git.example.ac.uk", "ab1234"),
        ("Domain:target=files.example.ac.uk", "EXAMPLE\\ab1234"),
        ("LegacyGeneric:target=no-user", None),
    ]
    assert parse_cmdkey(CMDKEY_FRENCH) == [("Domain:target=files.example.ac.uk", "EXAMPLE\\ab1234")]
    assert parse_cmdkey("\r\nCurrently stored credentials:\r\n\r\n* NONE *\r\n") == []


def test_credman_json_and_hits() -> None:
    doc = {
        "creds": {
            "ok": True,
            "value": {"Target": "Domain:target=files.example.ac.uk", "User": "EXAMPLE\\ab1234"},
        }
    }
    entries = parse_credman(doc)
    assert entries == [("Domain:target=files.example.ac.uk", "EXAMPLE\\ab1234")]
    assert credential_hits(entries, ORG) == [
        (
            "Domain:target=files.example.ac.uk",
            ("stored_credential", "files.example.ac.uk", "example.ac.uk"),
        )
    ]
    assert parse_credman({"creds": {"ok": True, "value": None}}) == []
    with pytest.raises(FactUnavailable):
        parse_credman({"creds": {"ok": False, "denied": False, "error": "language mode"}})


KEYCHAIN_DUMP = """keychain: "/Users/alice/Library/Keychains/login.keychain-db"
version: 512
class: "inet"
attributes:
    0x00000007 <blob>="idp.example.ac.uk"
    "acct"<blob>="ab1234@example.ac.uk"
    "icmt"<blob>="CANARY-keychain-comment"
    "srvr"<blob>="idp.example.ac.uk"
keychain: "/Users/alice/Library/Keychains/login.keychain-db"
version: 512
class: "genp"
attributes:
    "acct"<blob>=0x616C696365E28099406578616D706C652E61632E756B  "alice\\342\\200\\231@exa..."
    "svce"<blob>="caf\\303\\251 \\"notes\\""
keychain: "/Library/Keychains/System.keychain"
version: 512
class: "genp"
attributes:
    "acct"<blob>="eduroam"
    "svce"<blob>="AirPort"
keychain: "/Library/Keychains/System.keychain"
version: 256
class: 0x80001000
attributes:
    "alis"<blob>="Apple Root CA"
keychain: "/Users/alice/Library/Keychains/login.keychain-db"
version: 512
class: 0x80001000{TRAILING_SPACE}
attributes:
    "alis"<blob>="ab1234@example.ac.uk"
    "hpky"<blob>=0x1A2B3C4D5E6F708192A3B4C5D6E7F80911223344  "\\032+<M^op\\201"
    "labl"<blob>="ab1234"
""".replace("{TRAILING_SPACE}", " ")  # security prints "class: 0x80001000 " with a blank


def test_keychain_dump_keeps_naming_attributes_only() -> None:
    items = parse_keychain_dump(KEYCHAIN_DUMP)
    assert items == [
        KeychainItem("inet", {"acct": "ab1234@example.ac.uk", "srvr": "idp.example.ac.uk"}),
        KeychainItem("genp", {"acct": "alice\u2019@example.ac.uk", "svce": 'café "notes"'}),
        KeychainItem("genp", {"acct": "eduroam", "svce": "AirPort"}),
        KeychainItem("0x80001000", {"alis": "Apple Root CA"}),
        KeychainItem("0x80001000", {"alis": "ab1234@example.ac.uk", "labl": "ab1234"}),
    ]
    assert keychain_hits(items, ORG) == [
        ("saved_login", "ab1234@example.ac.uk", "example.ac.uk"),
        ("stored_credential", "example.ac.uk", "example.ac.uk"),
        ("wifi_profile", "eduroam", "eduroam"),
        ("certificate", "ab1234@example.ac.uk", "example.ac.uk"),
    ]


def test_keychain_wifi_items() -> None:
    eap = "com.apple.network.eap.user.item.wlan.ssid."
    items = [
        KeychainItem("genp", {"svce": eap + "Example-Staff", "acct": "guest@other.test"}),
        KeychainItem("genp", {"svce": eap + "HomeNet", "acct": "ab1234@example.ac.uk"}),
        KeychainItem("genp", {"svce": eap + "HomeNet", "acct": "me@example.ac.uk.evil.com"}),
        KeychainItem("genp", {"svce": "AirPort", "acct": "HomeNet"}),
    ]
    assert keychain_hits(items, ORG) == [
        ("wifi_profile", "Example-Staff", "Example-Staff"),
        ("wifi_profile", "ab1234@example.ac.uk", "example.ac.uk"),
    ]


def test_bus_reply_unwraps_variants() -> None:
    reply = (
        '{"type":"a{sv}","data":[{"Items":{"type":"ao","data":["/a/1"]},'
        '"Label":{"type":"s","data":"Login"},"Locked":{"type":"b","data":false}}]}'
    )
    assert parse_bus_reply(reply) == {"Items": ["/a/1"], "Label": "Login", "Locked": False}
    collections = '{"type":"v","data":[{"type":"ao","data":["/org/freedesktop/secrets/c/login"]}]}'
    assert parse_bus_reply(collections) == ["/org/freedesktop/secrets/c/login"]
    with pytest.raises(ParseError):
        parse_bus_reply("Failed to connect to bus")


def test_secret_service_items() -> None:
    git = {"protocol": "https", "server": "git.example.ac.uk", "user": "alice"}
    assert secret_item_hits("Git: https://git.example.ac.uk/", git, ORG) == [
        ("stored_credential", "git.example.ac.uk", "example.ac.uk")
    ]
    nm = {"connection-uuid": "3f1c", "setting-name": "802-1x", "setting-key": "password"}
    label = "Netzwerkgeheimnis für Example-Staff/802-1x/password"
    assert secret_item_hits(label, nm, ORG) == [("wifi_profile", "Example-Staff", "Example-Staff")]
    chrome = {"application": "chrome", "xdg:schema": "chrome_libsecret_os_crypt_password_v2"}
    assert secret_item_hits("Chrome Safe Storage", chrome, ORG) == []
    evil = {"server": "git.example.ac.uk.evil.com"}
    assert secret_item_hits("Git: https://git.example.ac.uk.evil.com/", evil, ORG) == []
    md5 = "6336e27d70e419424f8fbc4b91af0eef"  # reference gkr_md5_check: git.example-uni.ac.uk
    hashed = {"gkr:compat:hashed:server": md5, "xdg:schema": "org.freedesktop.Secret.Generic"}
    reference_org = Organisation(domains=("git.example-uni.ac.uk",))
    assert secret_item_hits("", hashed, reference_org) == [
        ("stored_credential", "git.example-uni.ac.uk", "git.example-uni.ac.uk")
    ]
    assert secret_item_hits("", hashed, ORG) == []
    realm = {"gkr:compat:hashed:realm": "81e7e2b7a1a26c1ff6f2c4f45a3ab3ef"}
    assert secret_item_hits("", realm, ORG) == []


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
    data = run_finders(ctx, ctx.settings, browsers.FINDERS["linux"])

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


# -- small replays: stores that exist but cannot be read are said so ---------------------------
def _replay(os_name: str, homes: list[str], **sections: Any) -> tuple[ReplayContext, ScanSettings]:
    return ReplayContext({"os": os_name, **sections}), scan_settings({"homes": homes})


def test_a_locked_keepassxc_database_is_not_inspected() -> None:
    service = "/org/freedesktop/secrets"
    get = f"{' '.join(os_stores.BUSCTL)} {service} org.freedesktop.DBus.Properties Get ss"
    get_all = (
        f"{' '.join(os_stores.BUSCTL)} {service}/collection/passwords"
        " org.freedesktop.DBus.Properties GetAll s"
    )
    ctx, settings = _replay(
        "linux",
        ["/home/alice"],
        env={"HOME": "/home/alice"},
        commands={
            f"{get} org.freedesktop.Secret.Service Collections": {
                "stdout": '{"type":"v","data":[{"type":"ao","data":["'
                + service
                + '/collection/passwords"]}]}'
            },
            f"{get_all} org.freedesktop.Secret.Collection": {
                "stdout": '{"type":"a{sv}","data":[{"Items":{"type":"ao","data":[]},'
                '"Label":{"type":"s","data":"Passwords"},"Locked":{"type":"b","data":true}}]}'
            },
        },
    )
    assert run_finders(ctx, settings, (os_stores.find_secret_service,)) == {
        "findings": [],
        "not_inspected": [
            {
                "store": "secret_service",
                "location": "Passwords",
                "reason": "locked: its items hidden until the user unlocks it",
            }
        ],
    }


def test_credential_manager_unreadable_by_both_routes() -> None:
    ctx, settings = _replay(
        "windows",
        ["C:\\Users\\alice"],
        env={"USERPROFILE": "C:\\Users\\alice"},
        commands={
            "powershell credentials-credman": {"rc": 1, "stderr": "Access is denied.\r\n"},
            "cmdkey /list": {"fails": "missing", "message": "cmdkey is not installed"},
        },
    )
    data = run_finders(ctx, settings, (os_stores.find_credential_manager,))
    assert data["not_inspected"] == [
        {
            "store": "credential_manager",
            "location": "Credential Manager",
            "reason": "powershell credentials-credman failed (exit 1): Access is denied.; "
            "cmdkey is not installed",
        }
    ]


def test_windows_accounts_script_failure_is_not_inspected() -> None:
    ctx, settings = _replay(
        "windows",
        ["C:\\Users\\alice"],
        commands={"powershell credentials-mail": {"rc": 0, "stdout": "not json"}},
    )
    data = run_finders(ctx, settings, (mail.find_windows_accounts,))
    assert data["not_inspected"] == [
        {
            "store": "outlook",
            "location": "HKEY_USERS",
            "reason": "powershell credentials-mail printed something that is not JSON: 'not json'",
        }
    ]
