"""The report's host section: name, OS, kernel, architecture, boot time, hashed hardware id."""

from __future__ import annotations

import hashlib
from typing import Protocol

from agent.facts.context import Context, FactUnavailable
from agent.facts.host import darwin, linux, windows
from agent.facts.probes import patch_level
from agent.facts.probes.base import Reading, for_os
from agent.facts.probes.patch_level.model import OsIdentity
from agent.report import HostInfo, rfc3339


class HostReaders(Protocol):
    """What linux.py, darwin.py and windows.py each define."""

    def read_hardware_id(self, ctx: Context) -> str: ...


# Typed as the readers so that mypy checks each OS module has them, alike.
LINUX: HostReaders = linux
DARWIN: HostReaders = darwin
WINDOWS: HostReaders = windows

# The raw machine id is a stable tracking identifier: only a salted hash leaves the device.
_HARDWARE_ID_SALT = b"outpost-hardware-id-v1:"


def hash_hardware_id(raw: str) -> str:
    return hashlib.sha256(_HARDWARE_ID_SALT + raw.encode()).hexdigest()


def collect_host(ctx: Context, identity: OsIdentity | None = None) -> HostInfo:
    """Host facts; each unreadable part is null (the probes say why in detail). The OS
    identity the patch_level probe already read is passed in rather than read again (on
    Windows that is a PowerShell start, ~0.5 s)."""
    if identity is None:
        try:
            identity = patch_level.readers_for(ctx).read_os_identity(Reading(ctx))
        except FactUnavailable:
            identity = None
    try:
        readers = for_os(ctx, linux=LINUX, darwin=DARWIN, windows=WINDOWS)
        hardware_id: str | None = hash_hardware_id(readers.read_hardware_id(ctx))
    except FactUnavailable:
        hardware_id = None
    return HostInfo(
        hostname=ctx.hostname(),
        os=identity.os_id if identity else ctx.os_name,
        os_version=identity.os_version if identity else None,
        os_build=identity.os_build if identity else None,
        kernel=identity.kernel if identity else ctx.kernel_release(),
        arch=ctx.machine(),
        boot_time=rfc3339(ctx.boot_time()),
        hardware_id_hash=hardware_id,
    )
