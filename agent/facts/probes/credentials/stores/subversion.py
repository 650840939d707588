"""Subversion's saved credentials: every home's auth/svn.simple (TortoiseSVN's on Windows)."""

from __future__ import annotations

from agent.facts.context import Context
from agent.facts.probes.credentials.per_os import PerOs, join
from agent.facts.probes.credentials.scan import ScanState
from agent.facts.probes.credentials.stores.readers import read_parsed
from agent.facts.probes.credentials.stores.storefiles import Finder, list_folder
from agent.facts.probes.credentials.stores.subversion_parse import svn_hit

SVN_SIMPLE: PerOs[str] = PerOs(
    linux=".subversion/auth/svn.simple",
    darwin=".subversion/auth/svn.simple",
    windows="AppData/Roaming/Subversion/auth/svn.simple",
)


def find_subversion(ctx: Context, scan: ScanState) -> None:
    """Each saved svn.simple credential whose repository or user is the organisation's."""
    for home in scan.homes:
        folder = join(ctx, home.path, SVN_SIMPLE.pick(ctx))
        for entry in list_folder(ctx, scan, "subversion", folder) or []:
            if entry.kind == "file":
                read_parsed(ctx, scan, "subversion", join(ctx, folder, entry.name), svn_hit)


FINDERS: PerOs[tuple[Finder, ...]] = PerOs(
    linux=(find_subversion,), darwin=(find_subversion,), windows=(find_subversion,)
)
