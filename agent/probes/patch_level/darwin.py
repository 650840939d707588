"""patch_level on macOS: sw_vers, InstallHistory.plist, softwareupdate --list, SoftwareUpdate prefs."""

from __future__ import annotations

import plistlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from xml.parsers.expat import ExpatError

from agent.context import AccessDenied, Context, FactUnavailable, FileMissing, ParseError
from agent.probes.base import Gaps, attempt
from agent.probes.patch_level.model import OsIdentity, PatchLevelData
from agent.report import rfc3339

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


@dataclass(frozen=True)
class InstallRecord:
    """One entry of InstallHistory.plist."""

    name: str
    version: str | None
    process: str | None
    content_type: str | None
    installed_at: float


@dataclass(frozen=True)
class AvailableUpdate:
    """One item of `softwareupdate --list`."""

    label: str
    title: str | None
    version: str | None
    action: str | None


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


def load_xml_plist(text: str, what: str) -> Any:
    """Parse XML property-list text with plistlib; anything else is a ParseError.

    <?xml version="1.0" encoding="UTF-8"?>
    <plist version="1.0"><dict><key>AutomaticCheckEnabled</key><true/></dict></plist>
    """
    if not text.lstrip().startswith(("<?xml", "<plist", "<!DOCTYPE")):
        raise ParseError(f"{what} is not an XML property list")
    try:
        return plistlib.loads(text.lstrip().encode("utf-8"), fmt=plistlib.FMT_XML)
    # plistlib reports malformed XML with several exception types (a bad <date> even as an
    # AttributeError); all of them mean the same thing here: not a plist we can read.
    except (ValueError, ExpatError, AttributeError, TypeError, IndexError, KeyError) as exc:
        raise ParseError(f"{what} is not a valid property list: {exc}") from exc


def _epoch(value: datetime) -> float:
    # plistlib gives naive datetimes that are in UTC (plist <date> is always UTC).
    return value.replace(tzinfo=UTC).timestamp() if value.tzinfo is None else value.timestamp()


def parse_install_history(text: str) -> list[InstallRecord]:
    """Parse /Library/Receipts/InstallHistory.plist (XML; an array of dicts with a <date>).

    <array><dict><key>date</key><date>2024-08-08T08:12:44Z</date>
    <key>displayName</key><string>macOS Sonoma 14.6.1</string>
    <key>displayVersion</key><string>14.6.1</string>
    <key>processName</key><string>softwareupdated</string></dict></array>
    """
    data = load_xml_plist(text, "InstallHistory.plist")
    if not isinstance(data, list):
        raise ParseError("InstallHistory.plist is not an array of installs")
    records = []
    for entry in data:
        if not isinstance(entry, dict) or not isinstance(entry.get("date"), datetime):
            continue
        records.append(
            InstallRecord(
                name=str(entry.get("displayName", "")),
                version=_str_or_none(entry.get("displayVersion")),
                process=_str_or_none(entry.get("processName")),
                content_type=_str_or_none(entry.get("contentType")),
                installed_at=_epoch(entry["date"]),
            )
        )
    return records


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


_SYSTEM_UPDATE_NAME = re.compile(
    r"^(macOS|OS X|Mac OS X)\b|Security (Update|Response|Improvement)", re.IGNORECASE
)


def is_system_update(record: InstallRecord) -> bool:
    """The rule for "updates last installed": an Apple software update, not background data.

    Counts entries installed by softwareupdated (or the Software Update app), and any entry named
    like a macOS or security update whatever installed it; never XProtect/MRT/Gatekeeper
    "config-data", which installs silently every few days and would hide an unpatched OS.
    """
    if record.content_type == "config-data":
        return False
    process = (record.process or "").replace(" ", "").lower()
    return process in {"softwareupdated", "softwareupdate"} or bool(
        _SYSTEM_UPDATE_NAME.search(record.name)
    )


def parse_softwareupdate_list(text: str) -> list[AvailableUpdate]:
    """Parse `softwareupdate --list`, stdout and stderr joined (format of macOS 10.15+).

    Software Update found the following new or updated software:
    * Label: macOS Sonoma 14.7-23H124
        Title: macOS Sonoma 14.7, Version: 14.7, Size: 1566345KiB, Recommended: YES, Action: restart,
    (the Title line is tab-indented and ends with ", ")
    No new software available.   <- alone, on stderr, when there is nothing
    """
    updates: list[AvailableUpdate] = []
    lines = text.splitlines()
    for index, line in enumerate(lines):
        match = re.match(r"^\s*\*\s*Label:\s*(.+?)\s*$", line)
        if not match:
            continue
        fields: dict[str, str] = {}
        following = lines[index + 1] if index + 1 < len(lines) else ""
        if re.match(r"^\s*Title:", following):
            for part in re.split(r",\s*(?=[A-Z][A-Za-z ]*:)", following.strip()):
                key, _, value = part.partition(":")
                fields[key.strip()] = value.strip().rstrip(",").strip()
        updates.append(
            AvailableUpdate(
                label=match.group(1),
                title=fields.get("Title") or None,
                version=fields.get("Version") or None,
                action=fields.get("Action") or None,
            )
        )
    if updates:
        return updates
    if "No new software available" in text:
        return []
    last = next((line.strip() for line in reversed(lines) if line.strip()), "")
    raise ParseError(f"softwareupdate --list gave no list of updates (last line: {last[:200]!r})")


def is_security_update(update: AvailableUpdate, current_major: int | None) -> bool:
    """Apple does not mark security updates; this heuristic does (reference A.2.2).

    Security: a label or title with "Security" (Security Update 20xx-nnn, Rapid Security
    Response, Background Security Improvement), or a macOS update that needs a restart and stays
    within the installed major version (point release or RSR). A new major version (e.g.
    Sequoia offered on Sonoma) is an upgrade, not counted: the older major still gets fixes.
    """
    names = f"{update.label} {update.title or ''}"
    if "security" in names.lower():
        return True
    is_macos = names.lstrip().lower().startswith("macos")
    if not is_macos or "restart" not in (update.action or "").lower():
        return False
    major = re.match(r"(\d+)", update.version or "")
    return current_major is None or major is None or int(major.group(1)) == current_major


def parse_software_update_prefs(text: str) -> dict[str, Any]:
    """Parse com.apple.SoftwareUpdate.plist as XML (from `plutil -convert xml1 -o - FILE`).

    <plist version="1.0"><dict>
    <key>AutomaticCheckEnabled</key><true/><key>AutomaticallyInstallMacOSUpdates</key><false/>
    <key>LastFullSuccessfulDate</key><date>2024-09-20T07:41:12Z</date></dict></plist>
    """
    data = load_xml_plist(text, "com.apple.SoftwareUpdate.plist")
    if not isinstance(data, dict):
        raise ParseError("com.apple.SoftwareUpdate.plist is not a dictionary")
    return data


def auto_updates_from_prefs(prefs: dict[str, Any]) -> bool:
    """macOS updates install automatically: AutomaticallyInstallMacOSUpdates, with check+download.

    Any of AutomaticCheckEnabled, AutomaticDownload, AutomaticallyInstallMacOSUpdates explicitly
    false => False. AutomaticallyInstallMacOSUpdates true (System Settings only allows it with
    checking and downloading on) => True. The install key absent => unknown (the OS default
    differs between releases), raised as FactUnavailable.
    """
    keys = ("AutomaticCheckEnabled", "AutomaticDownload", "AutomaticallyInstallMacOSUpdates")
    if any(prefs.get(key) is False for key in keys):
        return False
    if prefs.get("AutomaticallyInstallMacOSUpdates") is True:
        return True
    raise FactUnavailable(
        "AutomaticallyInstallMacOSUpdates is not set: the macOS default applies and is not readable"
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
    if not ctx.exists(SOFTWARE_UPDATE_PREFS):
        raise FileMissing(f"{SOFTWARE_UPDATE_PREFS} does not exist (settings never changed)")
    prefs = parse_software_update_prefs(
        _output(ctx, ["plutil", "-convert", "xml1", "-o", "-", SOFTWARE_UPDATE_PREFS])
    )
    if ctx.exists(MANAGED_SOFTWARE_UPDATE_PREFS):
        argv = ["plutil", "-convert", "xml1", "-o", "-", MANAGED_SOFTWARE_UPDATE_PREFS]
        prefs = {**prefs, **parse_software_update_prefs(_output(ctx, argv))}
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
            return rfc3339(_epoch(prefs[key]))
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
