"""Windows device-security parsers: DEVICE_SECURITY_SCRIPT's BitLocker, firewall, screen parts."""

from __future__ import annotations

from typing import Any

from agent.facts.context import FactUnavailable, ParseError
from agent.facts.probes.base import attempt
from agent.facts.probes.powershell_parse import (
    list_field,
    obj,
    opt_bool,
    opt_int,
    opt_str,
    parse_json,
    part,
)
from agent.report import Gaps

_DOC = "powershell device_security"
# System.Volume.BitLockerProtection: community-derived map, not documented by Microsoft. Only a
# finished encryption with its protectors on counts: encrypting, suspended (key in the clear),
# waiting for activation are not protected yet, whatever the padlock icon shows.
_SHELL_STATES = {
    1: (True, "BitLocker on"),
    2: (False, "BitLocker off"),
    3: (False, "BitLocker encrypting: not fully encrypted yet"),
    4: (False, "BitLocker decrypting"),
    5: (False, "BitLocker on but protection suspended: the key is readable without unlocking"),
    6: (True, "BitLocker on, locked"),
    8: (False, "BitLocker waiting for activation: the key is stored in the clear"),
}
# Win32_EncryptableVolume.GetConversionStatus().ConversionStatus (documented): only 1 with
# ProtectionStatus 1 (GetProtectionStatus) is protected.
_CONVERSION_STATES = {
    0: "fully decrypted",
    1: "fully encrypted",
    2: "encrypting",
    3: "decrypting",
    4: "encryption paused",
    5: "decryption paused",
}
_PROTECTION_STATES: dict[int | None, str] = {
    0: "protection off (suspended or no key protector)",
    1: "protection on",
}
_PROFILE_BITS = ((1, "Domain"), (2, "Private"), (4, "Public"))
_ON_OFF: dict[int | None, str] = {0: "off", 1: "on"}


def parse_disk_encryption(text: str) -> tuple[bool, str]:
    """BitLocker state of the system drive: shell property first, then WMI (admin only).

    Sample (constructed, reference D.1): {"bitlocker":{"ok":true,"value":{"Drive":"C:",
    "Protection":1}}} or, when the shell gives null, {"bitlocker_wmi":{"ok":false,"denied":true,
    "error":"Access denied"}}.
    """
    doc = parse_json(text, _DOC)
    why: Gaps = {}
    shell = attempt(why, "shell", lambda: obj(part(doc, "bitlocker"), "bitlocker"))
    drive = (opt_str(shell, "Drive") if shell else None) or "the system drive"
    value = opt_int(shell, "Protection") if shell else None
    if value is not None:
        if value not in _SHELL_STATES:
            raise FactUnavailable(f"unknown BitLockerProtection value {value} for {drive}")
        encrypted, state = _SHELL_STATES[value]
        return encrypted, f"{drive} {state} (shell BitLockerProtection={value})"
    if shell is not None:
        why["shell"] = (
            "the shell reports no BitLocker state (BitLocker unavailable on this edition?)"
        )
    if isinstance(doc, dict) and "bitlocker_wmi" in doc:
        wmi = attempt(why, "wmi", lambda: obj(part(doc, "bitlocker_wmi"), "bitlocker_wmi"))
        drive = (opt_str(wmi, "Drive") if wmi else None) or drive
        if wmi and opt_bool(wmi, "Found"):
            status = opt_int(wmi, "ConversionStatus")
            if status in _CONVERSION_STATES:
                percent, protection = (
                    opt_int(wmi, "EncryptionPercentage"),
                    opt_int(wmi, "ProtectionStatus"),
                )
                shown = _PROTECTION_STATES.get(protection, f"protection status {protection}")
                detail = f"{drive} {_CONVERSION_STATES[status]} ({percent}%), {shown}"
                if status == 1 and protection not in _PROTECTION_STATES:
                    raise FactUnavailable(f"BitLocker protection unknown: {detail}")
                return status == 1 and protection == 1, f"{detail} (Win32_EncryptableVolume)"
            why["wmi"] = f"unknown ConversionStatus {status}"
        elif wmi:
            why["wmi"] = f"Win32_EncryptableVolume lists no volume {drive}"
    raise FactUnavailable(f"BitLocker state of {drive} unknown: " + "; ".join(why.values()))


def parse_firewall(text: str) -> tuple[bool, str]:
    """Windows Firewall: on when every profile in use (FwPolicy2.CurrentProfileTypes) is on.

    Sample (constructed, reference D.2): {"firewall":{"ok":true,"value":{"Profiles":[{"Name":
    "Domain","Enabled":1},{"Name":"Private","Enabled":1},{"Name":"Public","Enabled":0}],
    "Current":2}}}. Enabled is a GpoBoolean: 0 False, 1 True, 2 NotConfigured (unknown).
    """
    value = obj(part(parse_json(text, _DOC), "firewall"), "firewall")
    states: dict[str, int | None] = {}
    for item in list_field(value, "Profiles"):
        row = obj(item, "firewall profile")
        name = opt_str(row, "Name")
        if name is None:
            raise ParseError("firewall profile without a Name")
        states[name.capitalize()] = opt_int(row, "Enabled")
    if not states:
        raise ParseError("Get-NetFirewallProfile listed no profiles")
    shown = ", ".join(f"{name} {_ON_OFF.get(state, 'unknown')}" for name, state in states.items())
    mask = opt_int(value, "Current")
    active = [name for bit, name in _PROFILE_BITS if mask and mask & bit]
    if active:
        relevant = [states.get(name) for name in active]
        detail = f"Windows Firewall: {shown}; in use: {', '.join(active)}"
    else:
        relevant = list(states.values())
        detail = f"Windows Firewall: {shown}; profile in use unknown"
    if all(state == 1 for state in relevant):
        return True, detail
    if (active and 0 in relevant) or all(state == 0 for state in relevant):
        return False, detail  # a profile in use is off (or every profile is)
    raise FactUnavailable(f"cannot tell whether the firewall profile in use is on: {detail}")


def _screen_value(screen: dict[str, Any], user_key: str, policy_key: str) -> Any:
    policy = screen.get(policy_key)
    return policy if policy not in (None, "") else screen.get(user_key)


def parse_screen_lock(text: str) -> tuple[bool, str]:
    """Machine InactivityTimeoutSecs, else a password-protected screen saver (policy wins).

    Sample (constructed, reference D.3): {"screen":{"ok":true,"value":{"ScreenSaveActive":"1",
    "ScreenSaverIsSecure":"1","ScreenSaveTimeOut":"600","ScreenSaver":"C:\\Windows\\system32\\
    scrnsave.scr","PolicyActive":null,"PolicyIsSecure":null,"PolicyTimeOut":null,
    "PolicyScreenSaver":null,"InactivityTimeoutSecs":900}}}. Registry strings are REG_SZ ("600").
    Lock on sleep or display-off (powercfg) is not read: without either setting the answer is
    false, and the detail says so.
    """
    doc = parse_json(text, _DOC)
    screen = obj(part(doc, "screen"), "screen")
    limit = opt_int(screen, "InactivityTimeoutSecs")
    if limit is not None and limit > 0:
        return True, f"machine inactivity limit: locks after {limit} s (InactivityTimeoutSecs)"
    system = attempt({}, "system", lambda: opt_bool(obj(part(doc, "system"), "system"), "IsSystem"))
    if system is True:
        raise FactUnavailable(
            "the agent runs as LocalSystem: the screen saver is a per-user setting"
        )
    merged = {
        "active": _screen_value(screen, "ScreenSaveActive", "PolicyActive"),
        "secure": _screen_value(screen, "ScreenSaverIsSecure", "PolicyIsSecure"),
        "timeout": _screen_value(screen, "ScreenSaveTimeOut", "PolicyTimeOut"),
        "saver": _screen_value(screen, "ScreenSaver", "PolicyScreenSaver"),
    }
    active = opt_int(merged, "active")
    secure, timeout, saver = (
        opt_int(merged, "secure"),
        opt_int(merged, "timeout"),
        opt_str(merged, "saver"),
    )
    if saver and active != 0 and secure == 1 and timeout != 0:
        delay = f"after {timeout} s" if timeout else "after the default delay"
        return True, f"password-protected screen saver {delay}"
    return False, (
        f"no password-protected screen saver (ScreenSaveActive={active}, ScreenSaverIsSecure="
        f"{secure}, ScreenSaveTimeOut={timeout}, SCRNSAVE.EXE {'set' if saver else 'not set'}) "
        "and no InactivityTimeoutSecs policy; lock on sleep not read"
    )
