"""Parser for the applications script's JSON: browsers by App Paths, TikTok app and web apps."""

from __future__ import annotations

import ntpath
from typing import Any

from agent.facts.context import ParseError
from agent.facts.probes.applications.model import Application
from agent.facts.probes.applications.readers import WEB_APP_VERSION
from agent.facts.probes.applications.versions import own_version
from agent.facts.probes.powershell_parse import obj, parse_json, part, ps_list

# The proxy each Chromium-family browser starts an installed web app through.
WEB_APP_PROXIES = {
    "chrome_proxy.exe": "chrome",
    "msedge_proxy.exe": "edge",
    "brave_proxy.exe": "brave",
}


def _text(record: dict[str, Any], key: str) -> str | None:
    value = record.get(key)
    return value.strip() if isinstance(value, str) and value.strip() else None


def parse_browsers(text: str) -> list[Application]:
    """The `browsers` section: one record per App Paths entry found, with the exe's
    ProductVersion (null when the exe is gone). Sample:
        {"browsers":{"ok":true,"value":[{"Name":"edge","Key":"HKLM:\\...\\msedge.exe",
         "Path":"C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe",
         "Version":"131.0.2903.70"}]}}
    """
    found = []
    for raw in ps_list(part(parse_json(text, "powershell applications"), "browsers"), "browsers"):
        record = obj(raw, "a browser")
        name, path = _text(record, "Name"), _text(record, "Path")
        if name is None or path is None:
            raise ParseError("a browser record has no Name or Path")
        version = _text(record, "Version")
        found.append(
            Application(
                name=name,
                version=own_version(name, version) if version else None,
                source=path,
                version_unknown=None if version else "the program has no readable version",
            )
        )
    return found


def parse_tiktok(text: str) -> list[Application]:
    """The `tiktok` (Store packages) and `web_apps` (Start menu shortcuts) sections. Sample:
        {"tiktok":{"ok":true,"value":{"Name":"BytedancePte.Ltd.TikTok","Version":"1.0.23.0",
         "Location":"C:\\Program Files\\WindowsApps\\BytedancePte.Ltd.TikTok_1.0.23.0_x64__6yc"}},
         "web_apps":{"ok":true,"value":[{"Path":"C:\\Users\\tt\\AppData\\Roaming\\Microsoft\\
         Windows\\Start Menu\\Programs\\Chrome Apps\\TikTok.lnk",
         "Target":"C:\\Program Files\\Google\\Chrome\\Application\\chrome_proxy.exe"}]}}
    """
    doc = parse_json(text, "powershell applications")
    found = []
    for raw in ps_list(part(doc, "tiktok"), "tiktok"):
        record = obj(raw, "a TikTok package")
        version = _text(record, "Version")
        found.append(
            Application(
                name="tiktok",
                version=version,
                source=_text(record, "Location") or _text(record, "Name") or "Store package",
                version_unknown=None if version else "the package gives no version",
            )
        )
    for raw in ps_list(part(doc, "web_apps"), "web_apps"):
        record = obj(raw, "a shortcut")
        target = ntpath.basename(_text(record, "Target") or "").lower()
        browser = WEB_APP_PROXIES.get(target)
        if browser is not None:
            found.append(
                Application(
                    name="tiktok_web_app",
                    version=None,
                    source=f"{_text(record, 'Path')} ({browser})",
                    version_unknown=WEB_APP_VERSION,
                )
            )
    return found
