"""Chat apps and synced folders signed in to the organisation: Teams, Slack, Pidgin, OneDrive."""

from __future__ import annotations

from agent.facts.context import Context
from agent.facts.probes.credentials.per_os import PerOs, join
from agent.facts.probes.credentials.scan import ScanState
from agent.facts.probes.credentials.stores.collaboration_parse import (
    pidgin_hits,
    slack_hits,
    sync_folder_match,
    teams_hits,
)
from agent.facts.probes.credentials.stores.readers import read_parsed
from agent.facts.probes.credentials.stores.storefiles import Finder, list_folder

TEAMS_CONFIG: PerOs[tuple[str, ...]] = PerOs(
    linux=(".config/Microsoft/Microsoft Teams/desktop-config.json",),
    darwin=("Library/Application Support/Microsoft/Teams/desktop-config.json",),
    windows=("AppData/Roaming/Microsoft/Teams/desktop-config.json",),
)
PIDGIN_ACCOUNTS: PerOs[tuple[str, ...]] = PerOs(
    linux=(".purple/accounts.xml",),
    darwin=(".purple/accounts.xml",),
    windows=("AppData/Roaming/.purple/accounts.xml",),
)
SLACK_STATE: PerOs[tuple[str, ...]] = PerOs(
    linux=(
        ".config/Slack/storage/root-state.json",
        ".var/app/com.slack.Slack/config/Slack/storage/root-state.json",
        "snap/slack/current/.config/Slack/storage/root-state.json",
    ),
    darwin=(
        "Library/Application Support/Slack/storage/root-state.json",
        "Library/Containers/com.tinyspeck.slackmacgap/Data/Library/Application Support/Slack/"
        "storage/root-state.json",
    ),
    windows=("AppData/Roaming/Slack/storage/root-state.json",),
)
# Where sync clients put their folders: the home (Windows, older macOS) and CloudStorage.
SYNC_ROOTS: PerOs[tuple[str, ...]] = PerOs(
    linux=("",), darwin=("", "Library/CloudStorage"), windows=("",)
)


def find_chat_apps(ctx: Context, scan: ScanState) -> None:
    """Teams, Slack and Pidgin signed in to the organisation (accounts, tenants, workspaces)."""
    for home in scan.homes:
        for relative in TEAMS_CONFIG.pick(ctx):
            read_parsed(ctx, scan, "teams", join(ctx, home.path, relative), teams_hits)
        for relative in SLACK_STATE.pick(ctx):
            read_parsed(ctx, scan, "slack", join(ctx, home.path, relative), slack_hits)
        for relative in PIDGIN_ACCOUNTS.pick(ctx):
            read_parsed(ctx, scan, "pidgin", join(ctx, home.path, relative), pidgin_hits)


def find_sync_folders(ctx: Context, scan: ScanState) -> None:
    """Folders a sync client named for the organisation ("OneDrive - University of Example"):
    the organisation's cloud account is signed in on this device."""
    for home in scan.homes:
        for relative in SYNC_ROOTS.pick(ctx):
            root = join(ctx, home.path, relative) if relative else home.path
            for entry in list_folder(ctx, scan, "cloud_sync", root) or []:
                if entry.kind == "dir" and (matched := sync_folder_match(entry.name, scan.org)):
                    scan.add(
                        "cloud_sync_folder",
                        "cloud_sync",
                        join(ctx, root, entry.name),
                        entry.name,
                        matched,
                    )


FINDERS: PerOs[tuple[Finder, ...]] = PerOs(
    linux=(find_chat_apps, find_sync_folders),
    darwin=(find_chat_apps, find_sync_folders),
    windows=(find_chat_apps, find_sync_folders),
)
