"""Every protection state of FileVault, BitLocker, the firewalls and screen lock, through the
parser, the probe's data and the policy Evaluator: pass only when fully protected."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

import pytest

from agent.facts.probes.base import attempt
from agent.facts.probes.device_security import darwin_parse as mac
from agent.facts.probes.device_security import windows_parse as win
from agent.facts.probes.device_security.model import Finding, device_security
from tests.unit.test_rules import POLICY, clean_facts, evaluate_rule, ok

FIELDS = {
    "SEC-001": "disk_encrypted",
    "SEC-002": "firewall_enabled",
    "SEC-003": "screen_lock_enabled",
}


def rule_result(rule_id: str, parse: Callable[[str], Finding], text: str) -> tuple[str, str]:
    """SEC-00x's status and evidence when the probe read `text` with `parse`, as collect does."""
    gaps: dict[str, str] = {}
    finding = attempt(gaps, FIELDS[rule_id], lambda: parse(text))
    findings = {
        field: finding if field == FIELDS[rule_id] else (True, "ok") for field in FIELDS.values()
    }
    data = device_security(
        gaps,
        findings["disk_encrypted"],
        findings["firewall_enabled"],
        findings["screen_lock_enabled"],
    )
    facts = clean_facts()
    facts["probes"]["device_security"] = ok(asdict(data))
    result = evaluate_rule(rule_id, POLICY, facts)
    return result.status, " ".join(result.evidence)


def ps(**parts: Any) -> str:
    """A device_security script output with these parts, each {"ok": true, "value": ...}."""
    doc = {name: {"ok": True, "value": value} for name, value in parts.items()}
    doc.setdefault("system", {"ok": True, "value": {"IsSystem": False}})
    return json.dumps(doc)


def shell(value: int | None) -> str:
    return ps(bitlocker={"Drive": "C:", "Protection": value})


def wmi(conversion: int, protection: int, percent: int = 100) -> str:
    value = {"Found": True, "Drive": "C:", "ConversionStatus": conversion,
             "ProtectionStatus": protection, "EncryptionPercentage": percent}  # fmt: skip
    return json.dumps(
        {"bitlocker": {"ok": True, "value": {"Drive": "C:", "Protection": None}},
         "bitlocker_wmi": {"ok": True, "value": value}}
    )  # fmt: skip


FILEVAULT = [
    ("FileVault is On.\n", "pass", "FileVault is On"),
    ("FileVault is On.\nFileVault master keychain appears to be installed.\n", "pass", "On"),
    ("FileVault is Off.\n", "fail", "FileVault is Off"),
    ("FileVault is Off, but will be enabled after the next restart.\n", "fail", "next restart"),
    ("FileVault is Off.\nDeferred enablement appears to be active for user 'a'.\n", "fail",
     "Deferred enablement"),
    ("FileVault is On.\nEncryption in progress: Percent completed = 37.4\n", "fail",
     "encryption in progress (37.4% done)"),
    ("FileVault is On.\nEncryption in progress: Pending\n", "fail", "Pending"),
    ("FileVault is On.\nENCRYPTION IN PROGRESS: PERCENT COMPLETED = 99.9\n", "fail", "99.9% done"),
    ("FileVault is On.\nEncryption paused: Percent completed = 40.1\n", "fail",
     "encryption paused (40.1% done)"),
    ("FileVault is On.\nDecryption in progress: Percent completed = 12.0\n", "fail",
     "decryption in progress"),
    ("FileVault is Off.\nDecryption paused: Percent completed = 80.0\n", "fail",
     "decryption paused"),
    ("fdesetup: unable to read the volume\n", "unknown", "unexpected output"),
]  # fmt: skip

BITLOCKER = [
    (shell(1), "pass", "BitLocker on (shell BitLockerProtection=1)"),
    (shell(6), "pass", "locked"),
    (shell(2), "fail", "BitLocker off"),
    (shell(3), "fail", "encrypting"),
    (shell(4), "fail", "decrypting"),
    (shell(5), "fail", "protection suspended"),
    (shell(8), "fail", "waiting for activation"),
    (shell(7), "unknown", "unknown BitLockerProtection value 7"),
    (wmi(1, 1), "pass", "fully encrypted (100%), protection on"),
    (wmi(1, 0), "fail", "fully encrypted (100%), protection off"),
    (wmi(0, 0, 0), "fail", "fully decrypted"),
    (wmi(2, 0, 41), "fail", "encrypting (41%)"),
    (wmi(2, 1, 41), "fail", "encrypting (41%), protection on"),
    (wmi(3, 1, 60), "fail", "decrypting"),
    (wmi(4, 0, 63), "fail", "encryption paused (63%)"),
    (wmi(5, 0, 20), "fail", "decryption paused"),
    (wmi(1, 2), "unknown", "protection status 2"),
    (wmi(9, 1), "unknown", "unknown ConversionStatus 9"),
    (json.dumps({"bitlocker": {"ok": True, "value": {"Drive": "C:", "Protection": None}},
                 "bitlocker_wmi": {"ok": False, "denied": True, "error": "Access denied"}}),
     "unknown", "access denied"),
]  # fmt: skip

FIREWALL_MAC = [
    ("Firewall is enabled. (State = 1)\n", mac.parse_socketfilterfw_state, "pass", "State = 1"),
    ("Firewall is blocking all non-essential incoming connections. (State = 2)\n",
     mac.parse_socketfilterfw_state, "pass", "blocking all incoming connections (State = 2)"),
    ("Firewall is disabled. (State = 0)\n", mac.parse_socketfilterfw_state, "fail", "off"),
    ("Firewall is blocking all non-essential incoming connections.\n",
     mac.parse_socketfilterfw_state, "pass", "blocking all"),
    ("socketfilterfw: permission denied\n", mac.parse_socketfilterfw_state, "unknown",
     "unexpected output"),
    ('{"SPFirewallDataType":[{"spfirewall_globalstate":"spfirewall_globalstate_allow_all"}]}',
     mac.parse_sp_firewall, "fail", "off (State = 0)"),
    ('{"SPFirewallDataType":[{"spfirewall_globalstate":"spfirewall_globalstate_block_all"}]}',
     mac.parse_sp_firewall, "pass", "State = 2"),
    ('{"SPFirewallDataType":[{"spfirewall_globalstate":"spfirewall_globalstate_new"}]}',
     mac.parse_sp_firewall, "unknown", "unknown spfirewall_globalstate"),
]  # fmt: skip


def profiles(domain: int, private: int, public: int, current: int | None) -> str:
    rows = [{"Name": "Domain", "Enabled": domain}, {"Name": "Private", "Enabled": private},
            {"Name": "Public", "Enabled": public}]  # fmt: skip
    return ps(firewall={"Profiles": rows, "Current": current})


FIREWALL_WINDOWS = [
    (profiles(1, 1, 1, 4), "pass", "in use: Public"),
    (profiles(0, 0, 1, 4), "pass", "Public on; in use: Public"),
    (profiles(1, 1, 0, 4), "fail", "Public off; in use: Public"),
    (profiles(1, 0, 1, 6), "fail", "in use: Private, Public"),
    (profiles(0, 0, 0, None), "fail", "profile in use unknown"),
    (profiles(1, 1, 1, None), "pass", "profile in use unknown"),
    (profiles(1, 0, 1, None), "unknown", "cannot tell"),
    (profiles(1, 2, 1, 2), "unknown", "Private unknown"),  # GpoBoolean NotConfigured
]

SCREEN_LOCK = [
    ("x sysadminctl[1:2] screenLock delay is immediate\n", mac.parse_screenlock_status, "pass",
     "immediately"),
    ("x sysadminctl[1:2] screenLock delay is 300 seconds\n", mac.parse_screenlock_status, "pass",
     "300 s"),
    ("x sysadminctl[1:2] screenLock is off\n", mac.parse_screenlock_status, "fail",
     "no password"),
    ("x sysadminctl[1:2] screenLock delay is -1.000000 seconds\n", mac.parse_screenlock_status,
     "fail", "delay -1"),
    ("x sysadminctl[1:2] screenLock delay is 5.000000 seconds\n", mac.parse_screenlock_status,
     "pass", "5 s"),
    ("sysadminctl: not allowed\n", mac.parse_screenlock_status, "unknown", "unexpected output"),
    (ps(screen={"InactivityTimeoutSecs": 900}), win.parse_screen_lock, "pass", "900 s"),
    (ps(screen={"ScreenSaveActive": "1", "ScreenSaverIsSecure": "1", "ScreenSaveTimeOut": "600",
                "ScreenSaver": "scrnsave.scr"}), win.parse_screen_lock, "pass", "after 600 s"),
    (ps(screen={"ScreenSaveActive": "1", "ScreenSaverIsSecure": "0", "ScreenSaveTimeOut": "600",
                "ScreenSaver": "scrnsave.scr"}), win.parse_screen_lock, "fail",
     "ScreenSaverIsSecure=0"),
    (ps(screen={}, system={"IsSystem": True}), win.parse_screen_lock, "unknown", "LocalSystem"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "status", "evidence"), FILEVAULT)
def test_filevault_states(text: str, status: str, evidence: str) -> None:
    got, shown = rule_result("SEC-001", mac.parse_fdesetup_status, text)
    assert (got, evidence in shown) == (status, True), shown


@pytest.mark.parametrize(("text", "status", "evidence"), BITLOCKER)
def test_bitlocker_states(text: str, status: str, evidence: str) -> None:
    got, shown = rule_result("SEC-001", win.parse_disk_encryption, text)
    assert (got, evidence in shown) == (status, True), shown


@pytest.mark.parametrize(("text", "parse", "status", "evidence"), FIREWALL_MAC)
def test_macos_firewall_states(
    text: str, parse: Callable[[str], Finding], status: str, evidence: str
) -> None:
    got, shown = rule_result("SEC-002", parse, text)
    assert (got, evidence in shown) == (status, True), shown


@pytest.mark.parametrize(("text", "status", "evidence"), FIREWALL_WINDOWS)
def test_windows_firewall_states(text: str, status: str, evidence: str) -> None:
    got, shown = rule_result("SEC-002", win.parse_firewall, text)
    assert (got, evidence in shown) == (status, True), shown


@pytest.mark.parametrize(("text", "parse", "status", "evidence"), SCREEN_LOCK)
def test_screen_lock_states(
    text: str, parse: Callable[[str], Finding], status: str, evidence: str
) -> None:
    got, shown = rule_result("SEC-003", parse, text)
    assert (got, evidence in shown) == (status, True), shown
