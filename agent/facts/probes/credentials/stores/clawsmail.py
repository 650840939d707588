"""Claws Mail: the organisation accounts in every home's accountrc."""

from __future__ import annotations

from agent.facts.context import Context
from agent.facts.probes.credentials.per_os import PerOs, join
from agent.facts.probes.credentials.scan import ScanState
from agent.facts.probes.credentials.stores.clawsmail_parse import claws_hits
from agent.facts.probes.credentials.stores.readers import read_parsed
from agent.facts.probes.credentials.stores.storefiles import Finder

ACCOUNTRC: PerOs[tuple[str, ...]] = PerOs(
    linux=(".claws-mail/accountrc",),
    darwin=(".claws-mail/accountrc",),
    windows=("AppData/Roaming/Claws-mail/accountrc",),
)


def find_claws_mail(ctx: Context, scan: ScanState) -> None:
    """Claws Mail accounts whose address, user or server is the organisation's."""
    for home in scan.homes:
        for relative in ACCOUNTRC.pick(ctx):
            read_parsed(ctx, scan, "claws_mail", join(ctx, home.path, relative), claws_hits)


FINDERS: PerOs[tuple[Finder, ...]] = PerOs(
    linux=(find_claws_mail,), darwin=(find_claws_mail,), windows=(find_claws_mail,)
)
