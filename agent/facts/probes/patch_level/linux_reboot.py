"""Whether a Linux machine needs a reboot to finish its updates."""

from __future__ import annotations

import re

from agent.facts.context import Context, FactUnavailable


def _version_key(release: str) -> list[tuple[int, int | str]]:
    # (0, n) sorts numbers before (1, "text") so mixed parts never compare int with str.
    return [
        (0, int(part)) if part.isdecimal() else (1, part) for part in re.split(r"[.\-+~_]", release)
    ]


def _flavour(release: str) -> str:
    """The kernel flavour: 'amd64' of 6.1.0-21-amd64, 'generic' of 6.8.0-45-generic, '' else."""
    match = re.match(r"^[0-9.]+-[0-9.]+-(.+)$", release)
    return match[1] if match else ""


def kernel_reboot_pending(running: str, installed: list[str]) -> bool | None:
    """A newer kernel of the running flavour is installed; None when the running one is foreign.

    Sample: running "6.1.0-18-amd64", /lib/modules holds ["6.1.0-18-amd64", "6.1.0-21-amd64"].
    Other flavours (6.1.0-21-rt-amd64) are not candidates: the boot loader keeps the flavour.
    """
    if running not in installed:
        return None
    flavour = _flavour(running)
    same = [k for k in installed if _flavour(k) == flavour]
    return max(same, key=_version_key) != running


def reboot_pending(ctx: Context) -> bool:
    """Ubuntu's reboot-required flag, else a newer installed kernel than the running one."""
    if ctx.exists("/var/run/reboot-required"):
        return True
    running = ctx.kernel_release()
    pending = kernel_reboot_pending(running, ctx.listdir("/lib/modules"))
    if pending is None:
        raise FactUnavailable(f"running kernel {running} is not an installed package kernel")
    return pending
