"""patch_level on macOS: sw_vers, InstallHistory.plist, softwareupdate --list, update prefs."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from agent.facts.context import AccessDenied, Context, FactUnavailable, FileMissing, ParseError
from agent.facts.probes.base import attempt
from agent.facts.probes.patch_level.darwin_updates import (
    AvailableUpdate,
    auto_updates_from_prefs,
    is_security_update,
    is_system_update,
    parse_install_history,
    parse_software_update_prefs,
    parse_softwareupdate_list,
    plist_epoch,
)
from agent.facts.probes.patch_level.model import OsIdentity, PatchLevelData
from agent.report import Gaps, rfc3339

INSTALL_HISTORY = "/Library/Receipts/InstallHistory.plist"
SOFTWARE_UPDATE_PREFS = "/Library/Preferences/com.apple.SoftwareUpdate.plist"
MANAGED_SOFTWARE_UPDATE_PREFS = "/Library/Managed Preferences/com.apple.SoftwareUpdate.plist"
SHORT_TIMEOUT = 5.0
# softwareupdate scans Apple's catalogue over the network (5-60 s); the probe's budget is 90 s,
# and it runs last so that the short reads before it cannot push it past the probe deadline.
SOFTWAREUPDATE_TIMEOUT = 70.0
MAX_NAMES = 50


@dataclass(frozen=True)
class SwVers:
    """What sw_vers printed."""

    product_name: str
    product_version: str
    build_version: str | None
    version_extra: str | None


def parse_sw_vers(text: str) -> SwVers:
    """Parse `sw_vers` (ProductVersionExtra appears only with a Rapid Security Response).

    ProductName:            macOS
    ProductVersion:         13.4.1
    ProductVersionExtra:    (c)
    BuildVersion:           22F770820d
    (the real separators are tabs)
    """
    values: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() and value.strip():
            values[key.strip()] = value.strip()
    version = values.get("ProductVersion", "")
    if not re.fullmatch(r"\d+(\.\d+)*", version):
        raise ParseError("sw_vers printed no ProductVersion like '14.6.1'")
    return SwVers(
        product_name=values.get("ProductName", "macOS"),
        product_version=version,
        build_version=values.get("BuildVersion"),
        version_extra=values.get("ProductVersionExtra"),
    )


def _output(ctx: Context, argv: Sequence[str], timeout: float = SHORT_TIMEOUT) -> str:
    result = ctx.run(argv, timeout=timeout)
    if result.returncode != 0:
        message = (result.stderr or result.stdout).strip().splitlines()
        detail = message[-1][:200] if message else "no output"
        error = AccessDenied if "permitted" in detail or "denied" in detail else FactUnavailable
        raise error(f"{argv[0]} exited with {result.returncode}: {detail}")
    return result.stdout


def os_identity(ctx: Context, gaps: Gaps) -> OsIdentity:
    """OS identity from sw_vers and the kernel release; unreadable parts are None with a gap."""
    sw = attempt(gaps, "os.os_version", lambda: parse_sw_vers(_output(ctx, ["sw_vers"])))
    if sw is None:
        gaps["os.os_name"] = gaps["os.os_build"] = gaps["os.os_version"]
        return OsIdentity(
            os_id="macos", os_name=None, os_version=None, os_build=None, kernel=ctx.kernel_release()
        )
    extra = f" {sw.version_extra}" if sw.version_extra else ""
    return OsIdentity(
        os_id="macos",
        os_name=f"{sw.product_name} {sw.product_version}{extra}",
        os_version=sw.product_version,
        os_build=sw.build_version,
        kernel=ctx.kernel_release(),
    )


def read_os_identity(ctx: Context) -> OsIdentity:
    """The host section's OS identity; never raises FactUnavailable (unknown parts are None)."""
    return os_identity(ctx, {})


def _read_prefs(ctx: Context) -> dict[str, Any]:
    """Effective SoftwareUpdate settings: the local plist with MDM-managed values on top."""
    prefs: dict[str, Any] = {}
    found = False
    for path in (SOFTWARE_UPDATE_PREFS, MANAGED_SOFTWARE_UPDATE_PREFS):
        if ctx.exists(path):
            text = _output(ctx, ["plutil", "-convert", "xml1", "-o", "-", path])
            prefs.update(parse_software_update_prefs(text))
            found = True
    if not found:
        raise FileMissing(f"{SOFTWARE_UPDATE_PREFS} does not exist (settings never changed)")
    return prefs


def _last_update(ctx: Context) -> str:
    records = [
        r for r in parse_install_history(ctx.read_text(INSTALL_HISTORY)) if is_system_update(r)
    ]
    if not records:
        raise FactUnavailable("InstallHistory.plist lists no macOS or security update install")
    return rfc3339(max(r.installed_at for r in records))


def _checked_at(prefs: dict[str, Any]) -> str:
    for key in ("LastFullSuccessfulDate", "LastSuccessfulDate"):
        if isinstance(prefs.get(key), datetime):
            return rfc3339(plist_epoch(prefs[key]))
    raise FactUnavailable("com.apple.SoftwareUpdate.plist has no LastFullSuccessfulDate")


def _pending(ctx: Context) -> list[AvailableUpdate]:
    result = ctx.run(["softwareupdate", "--list"], timeout=SOFTWAREUPDATE_TIMEOUT)
    # "No new software available." goes to stderr; errors do too, and parse as "no list".
    return parse_softwareupdate_list(f"{result.stdout}\n{result.stderr}")


def collect(ctx: Context) -> PatchLevelData:
    gaps: Gaps = {}
    identity = os_identity(ctx, gaps)
    last_update = attempt(gaps, "last_update_at", lambda: _last_update(ctx))
    prefs = attempt(gaps, "auto_updates", lambda: _read_prefs(ctx))
    auto_updates = None
    checked_at = None
    if prefs is None:
        gaps["updates_checked_at"] = gaps["auto_updates"]
    else:
        auto_updates = attempt(gaps, "auto_updates", lambda: auto_updates_from_prefs(prefs))
        checked_at = attempt(gaps, "updates_checked_at", lambda: _checked_at(prefs))
    updates = attempt(gaps, "pending_updates", lambda: _pending(ctx))
    pending = security = None
    names = None
    if updates is None:
        gaps["pending_security_updates"] = gaps["security_updates"] = gaps["pending_updates"]
    else:
        major = re.match(r"(\d+)", identity.os_version or "")
        current_major = int(major.group(1)) if major else None
        flagged = [u.label for u in updates if is_security_update(u, current_major)]
        pending, security, names = len(updates), len(flagged), flagged[:MAX_NAMES]
    gaps["reboot_pending"] = (
        "macOS does not tell whether a downloaded update waits for a restart "
        "(softwareupdate lists 'Action: restart' for updates not yet downloaded too)"
    )
    return PatchLevelData(
        os=identity,
        package_manager="softwareupdate",
        last_update_at=last_update,
        pending_updates=pending,
        pending_security_updates=security,
        security_updates=names,
        updates_checked_at=checked_at,
        reboot_pending=None,
        auto_updates=auto_updates,
        gaps=gaps,
    )
