"""OS credential stores: Secret Service, the macOS keychain, Windows Credential Manager."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agent.facts.context import FactUnavailable, ParseError
from agent.facts.probes.credentials.settings import Organisation, ScanSettings
from agent.facts.probes.credentials.stores import browsers, mail, os_stores
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
from tests.unit.test_probe_fixtures import (
    TEST_ORGANISATION,
    check_every_os_has_a_matching_and_a_clean_case,
    check_recorded_store_case,
    run_finders,
    scan_settings,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "credentials"
# The recorded cases of these three run through all of their finders: none may find more.
APP_AND_OS_STORES = (browsers, mail, os_stores)
ORG = TEST_ORGANISATION


# -- recorded cases, run through the browser, mail and OS-store finders together ------------
CASES = sorted(case for case in FIXTURES.glob("*/*.json") if case.name.startswith("os_stores_"))


@pytest.mark.parametrize("case", CASES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_recorded_case(case: Path) -> None:
    check_recorded_store_case(case, APP_AND_OS_STORES)


def test_every_os_has_a_matching_and_a_clean_case() -> None:
    check_every_os_has_a_matching_and_a_clean_case(CASES, "os_stores_")


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
