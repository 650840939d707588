"""Hardware identity on Windows: the MachineGuid that Windows sets at installation."""

from __future__ import annotations

import re

from agent.facts.context import Context, FactUnavailable, ParseError
from agent.facts.probes.powershell import ps_text
from agent.facts.probes.powershell_parse import parse_json

# HKLM\SOFTWARE\Microsoft\Cryptography is readable by every user (64-bit view: Context.powershell
# starts the 64-bit PowerShell, so no WOW6432Node redirection).
MACHINE_GUID_SCRIPT = r"""
$k = Get-ItemProperty 'HKLM:\SOFTWARE\Microsoft\Cryptography' -Name MachineGuid
ConvertTo-Json -Compress -InputObject ([string]$k.MachineGuid)
"""

_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)


def parse_machine_guid(text: str) -> str:
    """The MachineGuid as MACHINE_GUID_SCRIPT prints it, lower-cased.

    Sample (constructed): "5c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"
    """
    value = parse_json(text, "powershell machine_guid")
    if not isinstance(value, str) or not value.strip():
        raise FactUnavailable("the registry has no MachineGuid")
    if not _GUID.match(value.strip()):
        raise ParseError(f"MachineGuid is not a GUID: {value[:60]!r}")
    return value.strip().lower()


def read_hardware_id(ctx: Context) -> str:
    """HKLM\\SOFTWARE\\Microsoft\\Cryptography MachineGuid (the caller hashes it)."""
    return parse_machine_guid(ps_text(ctx, "machine_guid", MACHINE_GUID_SCRIPT, timeout=15.0))
