"""device_security: disk encryption, firewall, screen lock (null when unreadable)."""

from __future__ import annotations

from agent.facts.context import Context
from agent.facts.probes.base import Probe, Reading, for_os
from agent.facts.probes.device_security import darwin, linux, windows
from agent.facts.probes.device_security.model import DeviceSecurityData, device_security
from agent.facts.probes.device_security.readers import DeviceSecurityReaders

# Typed as the readers so that mypy checks each OS module has all of them, alike.
LINUX: DeviceSecurityReaders = linux
DARWIN: DeviceSecurityReaders = darwin
WINDOWS: DeviceSecurityReaders = windows


def collect(ctx: Context) -> DeviceSecurityData:
    readers = for_os(ctx, linux=LINUX, darwin=DARWIN, windows=WINDOWS)
    reading = Reading(ctx)
    disk = reading.attempt("disk_encrypted", lambda: readers.read_disk_encryption(reading))
    firewall = reading.attempt("firewall_enabled", lambda: readers.read_firewall(reading))
    lock = reading.attempt("screen_lock_enabled", lambda: readers.read_screen_lock(reading))
    return device_security(reading.gaps, disk, firewall, lock)


PROBE = Probe(
    name="device_security",
    summary="Disk encryption, firewall and screen lock (null when unreadable without privilege).",
    data_type=DeviceSecurityData,
    collect=collect,
    timeout_s=30.0,
)
