"""Network change watching: the OS tells us (Linux netlink) or we look every few seconds."""

from __future__ import annotations

import hashlib
import json
from typing import Protocol

from agent.facts.context import Context, FactUnavailable
from agent.service.netwatch import linux, polling


class Watcher(Protocol):
    """Blocks until the network may have changed or the timeout passes."""

    check_every_s: float

    def wait(self, timeout: float) -> bool: ...

    def wake(self) -> None: ...

    def close(self) -> None: ...


def make_watcher(os_name: str) -> Watcher:
    if os_name == "linux":
        return linux.NetlinkWatcher.open() or polling.PollingWatcher()
    return polling.PollingWatcher()


def fingerprint(ctx: Context) -> str:
    """A cheap digest of what NET rules look at: addresses, default routes, DNS config."""
    addresses = {
        name: sorted(a.address for a in addrs if a.family != "link")
        for name, addrs in ctx.net_if_addrs().items()
    }
    try:
        dns = ctx.read_text("/etc/resolv.conf") if ctx.os_name != "windows" else ""
    except FactUnavailable:
        dns = ""
    state = {"addresses": addresses, "gateways": ctx.gateways(), "dns": dns}
    return hashlib.sha256(json.dumps(state, sort_keys=True).encode()).hexdigest()
