"""Hardware identity on Linux: systemd's machine id."""

from __future__ import annotations

from agent.facts.context import Context, FileMissing
from agent.facts.host.linux_parse import parse_machine_id


def read_hardware_id(ctx: Context) -> str:
    """The machine id (the caller hashes it); dbus keeps a copy where systemd's is missing."""
    try:
        text = ctx.read_text("/etc/machine-id")
    except FileMissing:
        text = ctx.read_text("/var/lib/dbus/machine-id")
    return parse_machine_id(text)
