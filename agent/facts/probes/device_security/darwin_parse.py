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


# A line of `fdesetup status` that says the volume is not (yet, or no longer) fully protected.
_FDE_UNFINISHED = re.compile(
    r"\b(in progress|pending|paused|deferred|will be enabled|restart)\b", re.IGNORECASE
)
_FDE_PERCENT = re.compile(
    r"^((?:En|De)cryption[^:]*):\s*Percent completed\s*=\s*([\d.]+)", re.IGNORECASE
)


def parse_fdesetup_status(text: str) -> tuple[bool, str]:
    """(encrypted, detail) from `fdesetup status`; anything short of fully on is False.

    Real outputs (rtrouton/rtrouton_scripts and Jamf extension attributes, macOS 10.8-15):
    FileVault is On.
    FileVault is Off.
    FileVault is Off, but will be enabled after the next restart.
    FileVault is Off.
    Deferred enablement appears to be active for user 'alice'.
    FileVault is On.
    Encryption in progress: Percent completed = 37.4     (also "Encryption in progress: Pending"
    Decryption in progress: Percent completed = 12.0      when the Mac runs on battery)
    """
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for line in lines:
        percent = _FDE_PERCENT.match(line)
        if percent:
            state, done = percent.group(1).lower(), percent.group(2)
            return False, f"FileVault {state} ({done}% done)"
    for line in lines:
        if _FDE_UNFINISHED.search(line):
            state = line.rstrip(".")
            if re.fullmatch(r"FileVault is Off, but will be enabled after the next restart", state):
                return False, "FileVault is Off; it will be enabled after the next restart"
            return False, f"FileVault not fully on: {state[:120]}"
    if any(re.fullmatch(r"FileVault is On\.?", line, re.IGNORECASE) for line in lines):
        return True, "FileVault is On"
    if any(re.fullmatch(r"FileVault is Off\.?", line, re.IGNORECASE) for line in lines):
        return False, "FileVault is Off"
    raise ParseError(f"fdesetup status: unexpected output {text.strip()[:120]!r}")


def parse_socketfilterfw_state(text: str) -> tuple[bool, str]:
    """(enabled, detail) from `socketfilterfw --getglobalstate`.

    Firewall is enabled. (State = 1)
    Firewall is disabled. (State = 0)
    Firewall is blocking all non-essential incoming connections. (State = 2)
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
    if re.search(r"Firewall is blocking all", text):
        return True, "application firewall on, blocking all incoming connections"
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
    (constructed prefix; some builds say "screenLock delay is off", others print the delay as
    "-1.000000 seconds" when no password is asked)
    """
    if re.search(r"screenLock (delay )?is off", text):
        return False, "no password is asked after sleep or the screen saver"
    if re.search(r"screenLock delay is immediate", text):
        return True, "password asked immediately after sleep or the screen saver"
    match = re.search(r"screenLock delay is (-?\d+)(?:\.\d+)? seconds?", text)
    if match and int(match.group(1)) < 0:  # "-1.000000 seconds": no password is asked
        return False, f"no password is asked after sleep or the screen saver (delay {match[1]})"
    if match:
        seconds = int(match.group(1))
        return True, f"password asked {seconds} s after sleep or the screen saver starts"
    raise ParseError(f"sysadminctl -screenLock: unexpected output {text.strip()[-120:]!r}")
