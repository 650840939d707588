"""Hardware identity on Linux: systemd's machine id."""

from __future__ import annotations

from agent.facts.context import Context, FileMissing, ParseError


def read_hardware_id(ctx: Context) -> str:
    """The 32-hex-digit machine id (sample: `3d1219c7c4c5404aaa1f6d2a48adfda4`)."""
    try:
        text = ctx.read_text("/etc/machine-id")
    except FileMissing:
        text = ctx.read_text("/var/lib/dbus/machine-id")
    machine_id = text.strip()
    if len(machine_id) != 32 or not all(c in "0123456789abcdef" for c in machine_id):
        raise ParseError("machine-id is not 32 hex digits")
    return machine_id
