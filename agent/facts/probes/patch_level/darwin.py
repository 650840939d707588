"""patch_level on macOS: sw_vers, InstallHistory.plist, softwareupdate --list, update prefs."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from agent.facts.context import FactUnavailable, FileMissing
from agent.facts.probes.base import Reading, attempt, run_checked
from agent.facts.probes.patch_level.darwin_parse import (
    AvailableUpdate,
    auto_updates_from_prefs,
    is_security_update,
    is_system_update,
    parse_install_history,
    parse_software_update_prefs,
    parse_softwareupdate_list,
    parse_sw_vers,
    plist_epoch,
)
from agent.facts.probes.patch_level.model import OsIdentity
from agent.facts.probes.patch_level.readers import SecurityUpdates
from agent.report import rfc3339

INSTALL_HISTORY = "/Library/Receipts/InstallHistory.plist"
SOFTWARE_UPDATE_PREFS = "/Library/Preferences/com.apple.SoftwareUpdate.plist"
MANAGED_SOFTWARE_UPDATE_PREFS = "/Library/Managed Preferences/com.apple.SoftwareUpdate.plist"
SHORT_TIMEOUT = 5.0
# softwareupdate scans Apple's catalogue over the network (5-60 s); the probe's budget is 90 s,
# and the probe reads it last so that the short reads before it cannot push it past the deadline.
SOFTWAREUPDATE_TIMEOUT = 70.0
NO_REBOOT_FLAG = (
    "macOS does not tell whether a downloaded update waits for a restart "
    "(softwareupdate lists 'Action: restart' for updates not yet downloaded too)"
)


def read_os_identity(reading: Reading) -> OsIdentity:
    """OS identity from sw_vers and the kernel release; never raises FactUnavailable: unreadable
    parts are None, with a gap under os.<part>."""
    return reading.shared("os identity", lambda: _os_identity(reading))


def read_package_manager(reading: Reading) -> str:
    return "softwareupdate"


def read_last_update(reading: Reading) -> str | None:
    history = parse_install_history(reading.ctx.read_text(INSTALL_HISTORY))
    records = [r for r in history if is_system_update(r)]
    if not records:
        raise FactUnavailable("InstallHistory.plist lists no macOS or security update install")
    return rfc3339(max(r.installed_at for r in records))


def read_updates_checked_at(reading: Reading) -> str:
    prefs = _prefs(reading)
    for key in ("LastFullSuccessfulDate", "LastSuccessfulDate"):
        if isinstance(prefs.get(key), datetime):
            return rfc3339(plist_epoch(prefs[key]))
    raise FactUnavailable("com.apple.SoftwareUpdate.plist has no LastFullSuccessfulDate")


def read_reboot_pending(reading: Reading) -> bool:
    raise FactUnavailable(NO_REBOOT_FLAG)


def read_auto_updates(reading: Reading) -> bool:
    return auto_updates_from_prefs(_prefs(reading))


def read_pending_updates(reading: Reading) -> int:
    return len(_available(reading))


def read_security_updates(reading: Reading) -> SecurityUpdates:
    updates = _available(reading)
    major = re.match(r"(\d+)", read_os_identity(reading).os_version or "")
    current_major = int(major.group(1)) if major else None
    flagged = [u.label for u in updates if is_security_update(u, current_major)]
    return SecurityUpdates(count=len(flagged), names=flagged)


def _os_identity(reading: Reading) -> OsIdentity:
    gaps = reading.gaps
    kernel = reading.ctx.kernel_release()
    sw = attempt(
        gaps,
        "os.os_version",
        lambda: parse_sw_vers(run_checked(reading.ctx, ["sw_vers"], SHORT_TIMEOUT)),
    )
    if sw is None:
        gaps["os.os_name"] = gaps["os.os_build"] = gaps["os.os_version"]
        return OsIdentity(
            os_id="macos", os_name=None, os_version=None, os_build=None, kernel=kernel
        )
    extra = f" {sw.version_extra}" if sw.version_extra else ""
    return OsIdentity(
        os_id="macos",
        os_name=f"{sw.product_name} {sw.product_version}{extra}",
        os_version=sw.product_version,
        os_build=sw.build_version,
        kernel=kernel,
    )


def _prefs(reading: Reading) -> dict[str, Any]:
    """Effective SoftwareUpdate settings: the local plist with MDM-managed values on top."""

    def read() -> dict[str, Any]:
        prefs: dict[str, Any] = {}
        found = False
        for path in (SOFTWARE_UPDATE_PREFS, MANAGED_SOFTWARE_UPDATE_PREFS):
            if reading.ctx.exists(path):
                argv = ["plutil", "-convert", "xml1", "-o", "-", path]
                prefs.update(
                    parse_software_update_prefs(run_checked(reading.ctx, argv, SHORT_TIMEOUT))
                )
                found = True
        if not found:
            raise FileMissing(f"{SOFTWARE_UPDATE_PREFS} does not exist (settings never changed)")
        return prefs

    return reading.shared("software update prefs", read)


def _available(reading: Reading) -> list[AvailableUpdate]:
    def read() -> list[AvailableUpdate]:
        argv = ["softwareupdate", "--list"]
        result = reading.ctx.run(argv, timeout=SOFTWAREUPDATE_TIMEOUT)
        # "No new software available." goes to stderr; errors do too, and parse as "no list".
        return parse_softwareupdate_list(f"{result.stdout}\n{result.stderr}")

    return reading.shared("softwareupdate --list", read)
