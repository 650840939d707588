"""Parser of the macOS hardware identity: ioreg's IOPlatformUUID."""

from __future__ import annotations

import re

from agent.facts.context import ParseError

_UUID = re.compile(
    r'^\s*"IOPlatformUUID"\s*=\s*"([0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-'
    r'[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})"\s*$',
    re.MULTILINE,
)


def parse_platform_uuid(text: str) -> str:
    """Find IOPlatformUUID in `ioreg -rd1 -c IOPlatformExpertDevice` output (upper-cased).

    +-o J314sAP  <class IOPlatformExpertDevice, id 0x100000110, registered, matched, active, ...>
      {
        "IOPlatformSerialNumber" = "C02XXXXXXXXX"
        "IOPlatformUUID" = "564D0A3F-7E55-4B8A-9B1C-2D3E4F5A6B7C"
        "model" = <"MacBookPro18,3">
      }
    """
    match = _UUID.search(text)
    if match is None:
        raise ParseError("ioreg printed no IOPlatformUUID")
    return match.group(1).upper()
