"""Shared report changes for the alert tests."""

from __future__ import annotations

import copy
from typing import Any


def internal(body: dict[str, Any]) -> dict[str, Any]:
    """The same report with the laptop on the organisation's network (NET-001, critical)."""
    changed = copy.deepcopy(body)
    interface = changed["probes"]["network"]["data"]["interfaces"][0]
    interface["addresses"][0]["address"] = "10.1.2.3"
    return changed
