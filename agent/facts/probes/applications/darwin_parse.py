"""Parser for an app bundle's Info.plist version (pure function)."""

from __future__ import annotations

import plistlib
from xml.parsers.expat import ExpatError

from agent.facts.context import ParseError


def parse_bundle_version(data: bytes) -> str:
    """CFBundleShortVersionString of an Info.plist, XML or binary. Sample (Google Chrome.app):
    <key>CFBundleShortVersionString</key>
    <string>131.0.6778.86</string>
    """
    try:
        root = plistlib.loads(data)
    # A truncated XML plist raises ExpatError, which is not a ValueError.
    except (plistlib.InvalidFileException, ExpatError, ValueError, TypeError, OverflowError) as exc:
        raise ParseError(f"Info.plist is not a property list: {exc}") from exc
    version = root.get("CFBundleShortVersionString") if isinstance(root, dict) else None
    if not isinstance(version, str) or not version.strip():
        raise ParseError("Info.plist has no CFBundleShortVersionString")
    return version.strip()
