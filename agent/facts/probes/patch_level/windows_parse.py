"""Windows patch-level parsers: the OS identity and Windows Update scripts' JSON parts."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from agent.facts.context import FactUnavailable, ParseError
from agent.facts.probes.base import attempt
from agent.facts.probes.patch_level.model import OsIdentity
from agent.facts.probes.powershell_parse import (
    list_field,
    obj,
    opt_bool,
    opt_int,
    opt_str,
    parse_json,
    part,
    ps_date,
    ps_list,
)
from agent.report import rfc3339

SECURITY_UPDATES = "0fa1201d-4330-4fa8-8ae9-b877473b6441"
DEFINITION_UPDATES = "e0789628-ce08-4437-be74-2495b842f43b"  # Defender signatures, several a day
# Update classifications (language-neutral IDs) that change Windows itself: quality updates
# (security, critical, update rollups, updates) and feature updates (upgrades, feature packs,
# service packs). Drivers, tools and definitions are not among them.
OS_CLASSIFICATIONS = {
    SECURITY_UPDATES,
    "e6cf1350-c01b-414d-a61f-263d14d133b4",  # Critical Updates
    "28bc880e-0592-4cbf-8f95-c79b17911d5f",  # Update Rollups
    "cd5ffd1e-e932-4e3a-bf74-18bf0b1bbd83",  # Updates
    "3689bdc8-b205-4af4-8d4a-a63924c5e9d5",  # Upgrades (feature updates)
    "b54e7d24-7add-428f-8b75-90a396fa584f",  # Feature Packs
    "68c5b0a3-d1a6-4553-ae49-01d3a7827828",  # Service Packs
}
DRIVERS = "ebfc1fc5-71a4-4f7b-9aca-3b9a503104a0"
# Monthly or daily tools that ride on Windows Update without patching Windows, each under one
# KB number whatever its version: the Malicious Software Removal Tool (an "Update Rollup"),
# Defender's antimalware platform, signatures and the "Windows Security platform" app.
_NOT_OS_KBS = {"890830", "4052623", "2267602", "915597", "2461484", "5007651"}
_WU = "powershell windows_update"

_EDITIONS = {
    "Core": "Home",
    "CoreN": "Home N",
    "CoreSingleLanguage": "Home Single Language",
    "Professional": "Pro",
    "ProfessionalN": "Pro N",
    "ProfessionalWorkstation": "Pro for Workstations",
    "ProfessionalEducation": "Pro Education",
    "Enterprise": "Enterprise",
    "EnterpriseN": "Enterprise N",
    "EnterpriseS": "Enterprise LTSC",
    "Education": "Education",
    "IoTEnterprise": "IoT Enterprise",
    "IoTEnterpriseS": "IoT Enterprise LTSC",
    "ServerRdsh": "Enterprise multi-session",
}


@dataclass(frozen=True)
class PendingUpdates:
    """What the offline Windows Update search found (Defender signatures left out)."""

    total: int
    security: int
    security_names: list[str]


def parse_os_identity(text: str) -> OsIdentity:
    """Registry CurrentVersion + Win32_OperatingSystem as OS_IDENTITY_SCRIPT prints them.

    Sample (constructed, reference A.1.1): {"Version":"10.0.22631","BuildNumber":"22631",
    "UBR":3737,"DisplayVersion":"23H2","ReleaseId":"2009","EditionID":"Enterprise",
    "ProductName":"Windows 10 Enterprise","InstallationType":"Client"}
    """
    doc = obj(parse_json(text, "powershell os_identity"), "os identity")
    version = opt_str(doc, "Version")
    if version is None or not re.fullmatch(r"\d+\.\d+\.\d+", version):
        raise ParseError(f"expected Version like '10.0.22631', got {version!r}"[:120])
    build = opt_str(doc, "BuildNumber") or version.rsplit(".", 1)[1]
    if not build.isdigit():
        raise ParseError(f"expected a numeric BuildNumber, got {build!r}"[:120])
    ubr = opt_int(doc, "UBR")
    return OsIdentity(
        os_id="windows",
        os_name=_windows_name(version, int(build), doc),
        os_version=version,
        os_build=build if ubr is None else f"{build}.{ubr}",
        kernel=version if ubr is None else f"{version}.{ubr}",
    )


def _windows_name(version: str, build: int, doc: dict[str, Any]) -> str | None:
    product = opt_str(doc, "ProductName")
    if "server" in (opt_str(doc, "InstallationType") or "").lower():
        return product  # Server's ProductName is right ("Windows Server 2022 Datacenter")
    if not version.startswith("10."):
        return product
    family = "Windows 11" if build >= 22000 else "Windows 10"
    edition_id = opt_str(doc, "EditionID")
    edition = _EDITIONS.get(edition_id, edition_id) if edition_id else None
    release = opt_str(doc, "DisplayVersion") or opt_str(doc, "ReleaseId")
    return " ".join(piece for piece in (family, edition, release) if piece)


def parse_pending_updates(text: str) -> PendingUpdates:
    """The 'pending' part of UPDATES_SCRIPT: updates the last scan found, not installed.

    Sample (constructed, reference A.1.4): {"pending":{"ok":true,"value":{"Updates":[{"Title":
    "2024-07 Cumulative Update for Windows 11 Version 23H2 for x64-based Systems (KB5040442)",
    "MsrcSeverity":"Critical","KB":["5040442"],"Categories":["0fa1201d-4330-4fa8-8ae9-b877473b6441"]}]}}}
    """
    value = obj(part(parse_json(text, _WU), "pending"), "pending")
    total = 0
    names: list[str] = []
    for item in list_field(value, "Updates"):
        update = obj(item, "pending update")
        categories = {c.lower() for c in _strings(update.get("Categories"), "Categories")}
        if DEFINITION_UPDATES in categories:
            continue
        total += 1
        if SECURITY_UPDATES in categories or opt_str(update, "MsrcSeverity"):
            kbs = _strings(update.get("KB"), "KB")
            names.append(opt_str(update, "Title") or (f"KB{kbs[0]}" if kbs else "(untitled)"))
    return PendingUpdates(total=total, security=len(names), security_names=names[:50])


def parse_last_update(text: str) -> str:
    """When Windows itself was last updated: the newest successful install of a quality or
    feature update in the WUA history (drivers, Defender, the MSRT and other products left out).

    IAutomaticUpdatesResults.LastInstallationSuccessDate is not used: it counts any update, a
    driver or a signature included. Sample (constructed, reference A.1.3): {"history":{"ok":true,
    "value":{"Entries":[{"Date":"2024-06-12T03:14:07.0000000Z","Operation":1,"ResultCode":2,
    "ClientAppID":"UpdateOrchestrator","Title":"2024-06 Cumulative Update for Windows 11 Version
    23H2 for x64-based Systems (KB5039212)","Categories":["0fa1201d-...-b877473b6441"]}]}}}
    """
    newest = _newest_install(part(parse_json(text, _WU), "history"))
    if newest is None:
        raise FactUnavailable(
            "no successful install of a Windows quality or feature update in the last 50 "
            "Windows Update history entries"
        )
    return newest


def is_os_update(categories: set[str], title: str | None, client: str | None) -> bool:
    """A history entry that patched Windows: an OS classification, not a driver, Defender or
    the MSRT; with no categories, a title naming Windows ("Windows" is not translated)."""
    kbs = set(re.findall(r"KB(\d+)", title or "", re.IGNORECASE))
    if DEFINITION_UPDATES in categories or DRIVERS in categories or kbs & _NOT_OS_KBS:
        return False
    if "defender" in (client or "").lower():
        return False
    names_windows = "windows" in (title or "").lower()
    if categories & OS_CLASSIFICATIONS:
        return title is None or names_windows
    return not categories and names_windows


def _newest_install(value: Any) -> str | None:
    newest: str | None = None
    for item in list_field(obj(value, "history"), "Entries"):
        entry = obj(item, "history entry")
        categories = {c.lower() for c in _strings(entry.get("Categories"), "Categories")}
        if opt_int(entry, "Operation") != 1 or opt_int(entry, "ResultCode") not in (2, 3):
            continue  # 1 = installation; 2 = succeeded, 3 = succeeded with errors
        if not is_os_update(categories, opt_str(entry, "Title"), opt_str(entry, "ClientAppID")):
            continue
        when = ps_date(entry.get("Date"))
        if when and (newest is None or when > newest):
            newest = when
    return newest


def parse_updates_checked_at(text: str) -> str:
    """IAutomaticUpdatesResults.LastSearchSuccessDate (UTC), from the 'au' part.

    Sample (constructed): {"au":{"ok":true,"value":{"NotificationLevel":4,"LastSearchSuccessDate":
    "2024-06-14T08:03:19.0000000Z","LastInstallationSuccessDate":"2024-06-12T03:14:07.0000000Z"}}}
    """
    au = obj(part(parse_json(text, _WU), "au"), "au")
    checked = ps_date(au.get("LastSearchSuccessDate"))
    if checked is None:
        raise FactUnavailable("Windows Update has no successful search recorded")
    return checked


def parse_reboot_pending(text: str) -> bool:
    """CBS RebootPending / WU RebootRequired keys and Microsoft.Update.SystemInfo.RebootRequired.

    Sample (constructed, reference A.1.5): {"reboot":{"ok":true,"value":{"CBSRebootPending":false,
    "WURebootRequired":true,"WUAgentRebootRequired":true}}}
    """
    reboot = obj(part(parse_json(text, _WU), "reboot"), "reboot")
    keys = (opt_bool(reboot, "CBSRebootPending"), opt_bool(reboot, "WURebootRequired"))
    agent = opt_bool(reboot, "WUAgentRebootRequired")
    if True in keys or agent is True:
        return True
    if None in keys:
        raise ParseError("the reboot part lacks the registry flags")
    return False


def parse_auto_updates(text: str, now: float) -> bool:
    """Updates install by themselves unless policy, service, pause or AU settings say otherwise.

    Sample (constructed, reference A.1.6): {"policy":{"ok":true,"value":{"NoAutoUpdate":0,
    "AUOptions":4,"wuauserv":"Manual","PauseUpdatesExpiryTime":null}},"au":{"ok":true,
    "value":{"NotificationLevel":4}}}
    """
    doc = parse_json(text, _WU)
    policy = obj(part(doc, "policy"), "policy")
    if opt_int(policy, "NoAutoUpdate") == 1:
        return False
    if (opt_str(policy, "wuauserv") or "").lower() == "disabled":
        return False  # "Manual" is normal: wuauserv is trigger-started
    options = opt_int(policy, "AUOptions")
    if options in (2, 3, 7):  # notify before download / before install: nothing installs alone
        return False
    paused_until = ps_date(policy.get("PauseUpdatesExpiryTime"))
    if paused_until is not None and paused_until > rfc3339(now):
        return False
    if options == 4:  # policy: download and install on a schedule
        return True
    level = attempt({}, "au", lambda: opt_int(obj(part(doc, "au"), "au"), "NotificationLevel"))
    return level != 1  # 1 = disabled in Settings; 0 (not configured), 2-4 keep Windows updating


def _strings(value: Any, what: str) -> list[str]:
    items = ps_list(value, what)
    if not all(isinstance(item, str | int) and not isinstance(item, bool) for item in items):
        raise ParseError(f"{what}: expected a list of text")
    return [str(item) for item in items if str(item)]
