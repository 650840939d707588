"""One version scheme per browser, whichever OS reported it (pure)."""

from __future__ import annotations

import re

# Brave's app bundle and exe carry its Chromium major in front of its own version
# ("131.1.73.97"); its packages and the policy use its own ("1.73.97").
_BRAVE_WITH_CHROMIUM = re.compile(r"^\d{2,}\.(1\.\d+\.\d+)$")


def own_version(name: str, version: str) -> str:
    """The browser's own version. Sample: brave "131.1.73.97" -> "1.73.97"; others as given."""
    if name == "brave":
        match = _BRAVE_WITH_CHROMIUM.match(version)
        if match:
            return match[1]
    return version
