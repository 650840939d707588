"""Which user homes to scan: the configured ones, else every human home the OS lists."""

from __future__ import annotations

import re

from agent.facts.context import Context, FactUnavailable
from agent.facts.probes.credentials.per_os import PerOs, join
from agent.facts.probes.credentials.scan import Home

_HOME_ROOTS = PerOs(linux="/home", darwin="/Users", windows="C:\\Users")
_NOT_PEOPLE = {"Shared", "Public", "Default", "Default User", "All Users", "Guest", "lost+found"}


def list_homes(ctx: Context, configured: tuple[str, ...]) -> list[Home]:
    if configured:
        return [Home(user=re.split(r"[/\\]", h.rstrip("/\\"))[-1], path=h) for h in configured]
    root = _HOME_ROOTS.pick(ctx)
    try:
        entries = ctx.scandir(root)
    except FactUnavailable:
        return []
    return [
        Home(user=e.name, path=join(ctx, root, e.name))
        for e in entries
        if e.kind == "dir" and e.name not in _NOT_PEOPLE and not e.name.startswith(".")
    ]
