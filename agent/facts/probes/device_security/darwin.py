"""device_security on macOS: FileVault (fdesetup), application firewall, screen lock delay."""

from __future__ import annotations

from agent.facts.context import Context, FactUnavailable
from agent.facts.probes.base import Reading, attempt
from agent.facts.probes.device_security.darwin_parse import (
    parse_fdesetup_status,
    parse_screenlock_status,
    parse_socketfilterfw_state,
    parse_sp_firewall,
)
from agent.facts.probes.device_security.model import Finding
from agent.report import Gaps

TIMEOUT = 10.0
SOCKETFILTERFW = "/usr/libexec/ApplicationFirewall/socketfilterfw"


def read_disk_encryption(reading: Reading) -> Finding:
    return parse_fdesetup_status(_both_streams(reading.ctx, ["fdesetup", "status"]))


def read_firewall(reading: Reading) -> Finding:
    """socketfilterfw, else system_profiler (macOS 15 may refuse socketfilterfw)."""
    ctx = reading.ctx
    failures: Gaps = {}
    found = attempt(
        failures,
        "socketfilterfw",
        lambda: parse_socketfilterfw_state(
            _both_streams(ctx, [SOCKETFILTERFW, "--getglobalstate"])
        ),
    )
    if found is not None:
        return found
    argv = ["system_profiler", "SPFirewallDataType", "-json"]
    found = attempt(failures, "system_profiler", lambda: parse_sp_firewall(ctx.run(argv).stdout))
    if found is not None:
        return found
    raise FactUnavailable("; ".join(f"{tool}: {why}" for tool, why in failures.items()))


def read_screen_lock(reading: Reading) -> Finding:
    # sysadminctl reports the setting of the user it runs as: the agent's user, which is the
    # person at the Mac only when the agent runs in their session.
    argv = ["sysadminctl", "-screenLock", "status"]
    return parse_screenlock_status(_both_streams(reading.ctx, argv))


def _both_streams(ctx: Context, argv: list[str]) -> str:
    """stdout and stderr together, whatever the exit: these tools answer on either stream and
    their exit codes are not documented; the parser decides whether the answer is there."""
    result = ctx.run(argv, timeout=TIMEOUT)
    return f"{result.stdout}\n{result.stderr}"
