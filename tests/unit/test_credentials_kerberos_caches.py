"""Kerberos caches wherever the sessions keep them: FILE caches in /tmp and /run/user/<uid>, DIR
collections, and KCM:/KEYRING: caches (out of any file's reach) reported as not inspected with
the reason, from krb5.conf and what it includes."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import pytest

from agent.facts.probes.credentials.homes import list_homes
from agent.facts.probes.credentials.scan import ScanState
from agent.facts.probes.credentials.stores.developer_kerberos import find_kerberos
from agent.facts.probes.credentials.stores.developer_kerberos_parse import (
    ccache_type,
    included_file,
    parse_krb5_conf,
)
from tests.replay import ReplayContext
from tests.unit.test_probe_fixtures import scan_settings

FEDORA_CONF = """includedir /etc/krb5.conf.d/

[libdefaults]
    dns_lookup_realm = false
#    default_ccache_name = KEYRING:persistent:%{uid}
    default_ccache_name = FILE:/tmp/krb5cc_%{uid}
"""
KCM_SNIPPET = "[libdefaults]\n    default_ccache_name = KCM:\n"


def klist(cache: str, principal: str) -> dict[str, Any]:
    realm = principal.split("@")[1]
    out = (
        f"Ticket cache: {cache}\nDefault principal: {principal}\n\n"
        "Valid starting     Expires            Service principal\n"
        f"12/04/26 09:00:00  12/04/26 19:00:00  krbtgt/{realm}@{realm}\n"
    )
    return {"rc": 0, "stdout": out, "stderr": ""}


NO_CACHE = {"rc": 1, "stdout": "", "stderr": "klist: No credentials cache found"}


def machine(**extra: dict[str, Any]) -> dict[str, Any]:
    """A Linux machine with no home, no keytab and no session cache; `extra` adds sections."""
    recording: dict[str, Any] = {
        "os": "linux",
        "scandirs": {"/home": None, "/tmp": [], "/run/user": None},
        "files": {"/etc/krb5.keytab": None, "/etc/krb5.conf": None},
        "dirs": {},
        "commands": {"klist": NO_CACHE},
    }
    for section, entries in extra.items():
        recording.setdefault(section, {}).update(entries)
    return recording


def scan(recording: dict[str, Any]) -> dict[str, Any]:
    ctx = ReplayContext(recording)
    settings = scan_settings({})
    state = ScanState(settings=settings, homes=list_homes(ctx, settings.homes))
    find_kerberos(ctx, state)
    return {
        "findings": sorted((f.location, f.identity) for f in state.findings),
        "not_inspected": [asdict(n) for n in state.not_inspected],
    }


def test_file_and_dir_caches_in_tmp_and_the_users_runtime_folders() -> None:
    result = scan(
        machine(
            scandirs={
                "/tmp": [["krb5cc_1000", "file", 900], ["krb5cc_x.lock", "dir", 0]],
                "/run/user": [["1001", "dir", 0], ["1002", "dir", 0], ["README", "file", 1]],
                "/run/user/1001": [["krb5cc", "dir", 0], ["bus", "other", 0]],
                "/run/user/1001/krb5cc": [
                    ["primary", "file", 7],
                    ["tktAbC123", "file", 900],
                    ["tktDeF456", "file", 900],
                ],
                "/run/user/1002": [["krb5cc", "file", 900]],
                "/tmp/krb5cc_x.lock": [],
            },
            commands={
                "klist -c FILE:/tmp/krb5cc_1000": klist(
                    "FILE:/tmp/krb5cc_1000", "a@AD.EXAMPLE.AC.UK"
                ),
                "klist -c FILE:/run/user/1001/krb5cc/tktAbC123": klist(
                    "DIR::/run/user/1001/krb5cc/tktAbC123", "b@AD.EXAMPLE.AC.UK"
                ),
                "klist -c FILE:/run/user/1001/krb5cc/tktDeF456": klist(
                    "DIR::/run/user/1001/krb5cc/tktDeF456", "b@OTHER.TEST"
                ),
                "klist -c FILE:/run/user/1002/krb5cc": klist(
                    "FILE:/run/user/1002/krb5cc", "c@AD.EXAMPLE.AC.UK"
                ),
            },
        )
    )
    assert result == {
        "findings": [
            ("DIR::/run/user/1001/krb5cc/tktAbC123", "b@AD.EXAMPLE.AC.UK"),
            ("FILE:/run/user/1002/krb5cc", "c@AD.EXAMPLE.AC.UK"),
            ("FILE:/tmp/krb5cc_1000", "a@AD.EXAMPLE.AC.UK"),
        ],
        "not_inspected": [],
    }


def test_a_runtime_folder_out_of_reach_is_skipped_as_tmp_is() -> None:
    denied = {"fails": "denied", "message": "/run/user/1001 is not readable by this user"}
    result = scan(machine(scandirs={"/run/user": [["1001", "dir", 0]], "/run/user/1001": denied}))
    assert result == {"findings": [], "not_inspected": []}


@pytest.mark.parametrize(
    ("files", "dirs", "kind"),
    [
        # Fedora: the included snippet comes first, so its KCM: wins over the FILE: below it.
        (
            {"/etc/krb5.conf": FEDORA_CONF, "/etc/krb5.conf.d/kcm_default_ccache": KCM_SNIPPET},
            {"/etc/krb5.conf.d/": ["kcm_default_ccache", "skipped.rpmnew"]},
            "KCM",
        ),
        (
            {"/etc/krb5.conf": "[libdefaults]\n default_ccache_name = KEYRING:persistent:%{uid}"},
            {},
            "KEYRING",
        ),
        ({"/etc/krb5.conf": "include /etc/krb5.kcm\n", "/etc/krb5.kcm": KCM_SNIPPET}, {}, "KCM"),
    ],
)
def test_caches_out_of_any_files_reach_are_not_inspected_with_the_reason(
    files: dict[str, str], dirs: dict[str, list[str]], kind: str
) -> None:
    result = scan(machine(files=files, dirs=dirs))
    (entry,) = result["not_inspected"]
    assert entry["store"] == "kerberos" and entry["location"] == f"{kind}: ticket caches"
    assert f"default_ccache_name = {kind}:" in entry["reason"]


def test_file_caches_by_default_or_by_krb5_conf_say_nothing() -> None:
    no_include_dir = {"/etc/krb5.conf.d/": {"fails": "missing", "message": "gone"}}
    assert scan(machine(files={"/etc/krb5.conf": FEDORA_CONF}, dirs=no_include_dir)) == {
        "findings": [],
        "not_inspected": [],
    }


def test_an_unreadable_krb5_conf_is_named() -> None:
    denied = {"fails": "denied", "message": "/etc/krb5.conf is not readable by this user"}
    (entry,) = scan(machine(files={"/etc/krb5.conf": denied}))["not_inspected"]
    assert entry["location"] == "/etc/krb5.conf" and "not readable" in entry["reason"]


def test_krb5_conf_parsing() -> None:
    assert parse_krb5_conf(FEDORA_CONF) == [
        ("includedir", "/etc/krb5.conf.d/"),
        ("default_ccache_name", "FILE:/tmp/krb5cc_%{uid}"),
    ]
    # Only [libdefaults] sets it; a realm's section does not.
    assert parse_krb5_conf("[realms]\n default_ccache_name = KCM:\n") == []
    assert [ccache_type(n) for n in ("KCM:", "KEYRING:persistent:1", "/tmp/x", "dir:/r")] == [
        "KCM",
        "KEYRING",
        "FILE",
        "DIR",
    ]
    assert included_file("kcm_default_ccache") and included_file("a-b.conf")
    assert not included_file("x.rpmnew") and not included_file(".hidden")
