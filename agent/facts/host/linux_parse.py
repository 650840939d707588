"""Parser of the Linux hardware identity: systemd's machine id."""

from __future__ import annotations

from agent.facts.context import ParseError


def parse_machine_id(text: str) -> str:
    """The 32-hex-digit machine id of /etc/machine-id.

    Sample: 3d1219c7c4c5404aaa1f6d2a48adfda4
    """
    machine_id = text.strip()
    if len(machine_id) != 32 or not all(c in "0123456789abcdef" for c in machine_id):
        raise ParseError("machine-id is not 32 hex digits")
    return machine_id
