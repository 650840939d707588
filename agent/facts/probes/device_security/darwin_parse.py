"""macOS device-security parsers: fdesetup, socketfilterfw, system_profiler, sysadminctl."""

from __future__ import annotations

import json
import re
from typing import Any

from agent.facts.context import ParseError

_FIREWALL_STATES = {
    0: (False, "off (State = 0)"),
    1: (True, "on (State = 1)"),
    2: (True, "on, blocking all incoming connections (State = 2)"),
}
_SP_FIREWALL_STATES = {
    "spfirewall_globalstate_allow_all": 0,
    "spfirewall_globalstate_limit_connections": 1,
    "spfirewall_globalstate_block_all": 2,
}


def parse_fdesetup_status(text: str) -> tuple[bool, str]:
    """(encrypted, detail) from `fdesetup status`; anything short of fully on is False.

    FileVault is On.
    FileVault is Off.
    FileVault is Off, but will be enabled after the next restart.
    Encryption in progress: Percent completed = 37.4
    Decryption in progress: Percent completed = 12.0
    """
    progress = re.search(
        r"(Encryption|Decryption) in progress:\s*Percent completed\s*=\s*([\d.]+)", text
    )
    if progress:
        verb, percent = progress.group(1).lower(), progress.group(2)
        return False, f"FileVault {verb} in progress ({percent}% done)"
    if re.search(r"FileVault is Off, but will be enabled after the next restart", text):
        return False, "FileVault is Off; it will be enabled after the next restart"
    if re.search(r"^FileVault is On\.?\s*$", text, re.MULTILINE):
        return True, "FileVault is On"
    if re.search(r"^FileVault is Off\.?\s*$", text, re.MULTILINE):
        return False, "FileVault is Off"
    raise ParseError(f"fdesetup status: unexpected output {text.strip()[:120]!r}")


def parse_socketfilterfw_state(text: str) -> tuple[bool, str]:
    """(enabled, detail) from `socketfilterfw --getglobalstate`.

    Firewall is enabled. (State = 1)
    Firewall is disabled. (State = 0)
    (State = 2 is "block all incoming connections")
    """
    match = re.search(r"\(State\s*=\s*(\d+)\)", text)
    if match and int(match.group(1)) in _FIREWALL_STATES:
        enabled, state = _FIREWALL_STATES[int(match.group(1))]
        return enabled, f"application firewall {state}"
    # Older builds print no State: match the words, "disabled" first (it contains "abled").
    if re.search(r"Firewall is disabled", text):
        return False, "application firewall off"
    if re.search(r"Firewall is enabled", text):
        return True, "application firewall on"
    raise ParseError(f"socketfilterfw: unexpected output {text.strip()[:120]!r}")


def parse_sp_firewall(text: str) -> tuple[bool, str]:
    """(enabled, detail) from `system_profiler SPFirewallDataType -json` (osquery, macOS 15+).

    {"SPFirewallDataType":[{"_name":"firewall_settings",
      "spfirewall_globalstate":"spfirewall_globalstate_limit_connections",
      "spfirewall_stealthenabled":"Yes"}]}
    (constructed from osquery's key names)
    """
    try:
        data: Any = json.loads(text)
        state = data["SPFirewallDataType"][0]["spfirewall_globalstate"]
    except (json.JSONDecodeError, KeyError, IndexError, TypeError) as exc:
        raise ParseError(f"system_profiler did not print SPFirewallDataType JSON: {exc}") from exc
    if state not in _SP_FIREWALL_STATES:
        raise ParseError(f"unknown spfirewall_globalstate {str(state)[:80]!r}")
    enabled, detail = _FIREWALL_STATES[_SP_FIREWALL_STATES[state]]
    return enabled, f"application firewall {detail}"


def parse_screenlock_status(text: str) -> tuple[bool, str]:
    """(enabled, detail) from `sysadminctl -screenLock status` (it writes to stderr).

    2024-06-12 09:41:07.531 sysadminctl[4821:113503] screenLock delay is immediate
    2024-06-12 09:41:07.531 sysadminctl[4821:113503] screenLock delay is 300 seconds
    2024-06-12 09:41:07.531 sysadminctl[4821:113503] screenLock is off
    (constructed prefix; some builds say "screenLock delay is off")
    """
    if re.search(r"screenLock (delay )?is off", text):
        return False, "no password is asked after sleep or the screen saver"
    if re.search(r"screenLock delay is immediate", text):
        return True, "password asked immediately after sleep or the screen saver"
    match = re.search(r"screenLock delay is (\d+) seconds?", text)
    if match:
        seconds = int(match.group(1))
        return True, f"password asked {seconds} s after sleep or the screen saver starts"
    raise ParseError(f"sysadminctl -screenLock: unexpected output {text.strip()[-120:]!r}")
