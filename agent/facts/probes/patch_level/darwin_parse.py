"""macOS patch-level parsers: sw_vers, InstallHistory.plist, softwareupdate --list, update prefs."""

from __future__ import annotations

import plistlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from xml.parsers.expat import ExpatError

from agent.facts.context import FactUnavailable, ParseError


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
        detail = "a malformed <date>" if isinstance(exc, AttributeError) else str(exc)
        raise ParseError(f"{what} is not a valid property list: {detail}") from exc


def plist_epoch(value: datetime) -> float:
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
                installed_at=plist_epoch(entry["date"]),
            )
        )
    return records


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


_SYSTEM_UPDATE_NAME = re.compile(
    r"^(macOS|OS X|Mac OS X)\b|Security (Update|Response|Improvement)", re.IGNORECASE
)


def is_system_update(record: InstallRecord) -> bool:
    """The rule for "updates last installed": an update of macOS itself, nothing else.

    Counts entries named like a macOS release or update ("macOS Sonoma 14.6.1", "OS X",
    "macOS 10.14.1 Update") or a security update ("Security Update 2020-005", Rapid Security
    Response, Background Security Improvement), whatever installed them. Never what
    softwareupdated installs besides: developer tools ("Command Line Tools for Xcode"), Safari and
    other apps, firmware, nor XProtect/MRT/Gatekeeper "config-data", which installs silently every
    few days; any of those would hide an unpatched OS.
    """
    if record.content_type == "config-data":
        return False
    return bool(_SYSTEM_UPDATE_NAME.search(record.name))


# `softwareupdate --list` items: "* Label: X" (10.15+) or "* X" (10.14 and earlier); "-" instead
# of "*" marks an update that is not recommended.
_NEW_ITEM = re.compile(r"^\s*[*-]\s*Label:\s*(.+?)\s*$")
_OLD_ITEM = re.compile(r"^\s*[*-]\s+(.+?)\s*$")
# 10.14 and earlier: "\tmacOS 10.14.1 Update (10.14.1), 199140K [recommended] [restart]"
_OLD_DETAIL = re.compile(r"^\s+(?P<title>.*?),?\s*\((?P<version>[^()]*)\),\s*\d+K,?(?P<flags>.*)$")


def _new_fields(following: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    if re.match(r"^\s*Title:", following):
        for part in re.split(r",\s*(?=[A-Z][A-Za-z ]*:)", following.strip()):
            key, _, value = part.partition(":")
            fields[key.strip()] = value.strip().rstrip(",").strip()
    return fields


def _old_fields(following: str) -> dict[str, str] | None:
    detail = _OLD_DETAIL.match(following)
    if detail is None:
        return None
    flags = re.findall(r"\[([^\]]+)\]", detail.group("flags"))
    action = next((f for f in flags if f.lower() != "recommended"), "")
    return {"Title": detail.group("title"), "Version": detail.group("version").strip(),
            "Action": action}  # fmt: skip


def parse_softwareupdate_list(text: str) -> list[AvailableUpdate]:
    """Parse `softwareupdate --list`, stdout and stderr joined (macOS 10.13 to 26).

    Software Update found the following new or updated software:
    * Label: macOS Sonoma 14.7-23H124
        Title: macOS Sonoma 14.7, Version: 14.7, Size: 1566345KiB, Action: restart,
    (the Title line is tab-indented, also has "Recommended: YES, " and ends with ", ")
    On 10.14 and earlier (captured, saltstack/salt tests/pytests/unit/modules/
    test_mac_softwareupdate.py):
       * Safari14.0.1MojaveAuto-14.0.1
        Safari (14.0.1), 67518K [recommended]
       * macOS 10.14.1 Update
        macOS 10.14.1 Update (10.14.1), 199140K [recommended] [restart]
    No new software available.   <- alone, on stderr, when there is nothing
    """
    updates: list[AvailableUpdate] = []
    lines = text.splitlines()
    for index, line in enumerate(lines):
        following = lines[index + 1] if index + 1 < len(lines) else ""
        new = _NEW_ITEM.match(line)
        old = None if new else _OLD_ITEM.match(line)
        fields = _new_fields(following) if new else _old_fields(following) if old else None
        label = new or old
        if label is None or fields is None:
            continue
        updates.append(
            AvailableUpdate(
                label=label.group(1),
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
    # A 10.14 label may hide its title: "Safari14.0MojaveAuto-10.14.6" is a macOS update.
    is_macos = any(
        n.strip().lower().startswith("macos") for n in (update.label, update.title or "")
    )
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
