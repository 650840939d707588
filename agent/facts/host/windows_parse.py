"""Parser of the Windows hardware identity: the MachineGuid as MACHINE_GUID_SCRIPT prints it."""

from __future__ import annotations

import re

from agent.facts.context import FactUnavailable, ParseError
from agent.facts.probes.powershell_parse import parse_json

_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)


def parse_machine_guid(text: str) -> str:
    """The MachineGuid as MACHINE_GUID_SCRIPT prints it, lower-cased.

    Sample (constructed): "5c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"
    """
    value = parse_json(text, "powershell machine_guid")
    if not isinstance(value, str) or not value.strip():
        raise FactUnavailable("the registry has no MachineGuid")
    if not _GUID.match(value.strip()):
        raise ParseError(f"MachineGuid is not a GUID: {value[:60]!r}")
    return value.strip().lower()
