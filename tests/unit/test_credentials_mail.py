"""Credential stores of mail and work accounts: Thunderbird, GNOME Online Accounts, macOS
Internet Accounts, Outlook and Windows work accounts (never a secret)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agent.facts.context import ParseError
from agent.facts.probes.credentials.settings import ScanSettings
from agent.facts.probes.credentials.stores import browsers, mail, os_stores
from agent.facts.probes.credentials.stores.mail_parse import (
    goa_hits,
    home_sids,
    mac_account_hits,
    parse_goa,
    parse_prefs,
    registry_hits,
    thunderbird_hits,
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
CASES = sorted(case for case in FIXTURES.glob("*/*.json") if case.name.startswith("mail_"))


@pytest.mark.parametrize("case", CASES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_recorded_case(case: Path) -> None:
    check_recorded_store_case(case, APP_AND_OS_STORES)


def test_every_os_has_a_matching_and_a_clean_case() -> None:
    check_every_os_has_a_matching_and_a_clean_case(CASES, "mail_")


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


def _replay(os_name: str, homes: list[str], **sections: Any) -> tuple[ReplayContext, ScanSettings]:
    return ReplayContext({"os": os_name, **sections}), scan_settings({"homes": homes})


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
