"""Hardware identity on Windows: the MachineGuid that Windows sets at installation."""

from __future__ import annotations

from agent.facts.context import Context
from agent.facts.host.windows_parse import parse_machine_guid
from agent.facts.probes.powershell import ps_text

# HKLM\SOFTWARE\Microsoft\Cryptography is readable by every user (64-bit view: Context.powershell
# starts the 64-bit PowerShell, so no WOW6432Node redirection).
MACHINE_GUID_SCRIPT = r"""
$k = Get-ItemProperty 'HKLM:\SOFTWARE\Microsoft\Cryptography' -Name MachineGuid
ConvertTo-Json -Compress -InputObject ([string]$k.MachineGuid)
"""


def read_hardware_id(ctx: Context) -> str:
    """HKLM\\SOFTWARE\\Microsoft\\Cryptography MachineGuid (the caller hashes it)."""
    return parse_machine_guid(ps_text(ctx, "machine_guid", MACHINE_GUID_SCRIPT, timeout=15.0))
