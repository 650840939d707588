"""Running PowerShell scripts that print JSON through the Context (the Windows probes' door)."""

from __future__ import annotations

from typing import Any

from agent.facts.context import AccessDenied, Context, FactUnavailable
from agent.facts.probes.base import first_line
from agent.facts.probes.powershell_parse import parse_json

# Prepended to scripts that report several facts: each fact is computed by `Part { ... }`, which
# turns a failure into {"ok": false, ...} so that one refused fact does not lose the others.
# Category and HResult are language-neutral; the message is localised and only shown to people.
PS_PART = r"""
function Part([scriptblock]$Body) {
  try { @{ ok = $true; value = (& $Body) } }
  catch {
    $denied = ([string]$_.CategoryInfo.Category -eq 'PermissionDenied') -or
      ($_.Exception.HResult -eq -2147024891) -or ($_.Exception -is [UnauthorizedAccessException])
    @{ ok = $false; denied = $denied; error = [string]$_.Exception.Message }
  }
}
"""

# PowerShell error records that mean "not allowed", whatever the display language.
_DENIED_MARKERS = ("PermissionDenied", "UnauthorizedAccess", "0x80070005", "Access is denied")


def ps_text(ctx: Context, name: str, script: str, timeout: float = 30.0) -> str:
    """Run a PowerShell script through the context; its stdout, or why it failed."""
    result = ctx.powershell(name, script, timeout=timeout)
    if result.returncode != 0:
        detail = first_line(result.stderr) or first_line(result.stdout) or "no message"
        message = f"powershell {name} failed (exit {result.returncode}): {detail}"
        if any(marker in result.stderr for marker in _DENIED_MARKERS):
            raise AccessDenied(message)
        raise FactUnavailable(message)
    return result.stdout


def ps_json(ctx: Context, name: str, script: str, timeout: float = 30.0) -> Any:
    """Run a PowerShell script through the context and decode the JSON it prints."""
    return parse_json(ps_text(ctx, name, script, timeout), f"powershell {name}")
