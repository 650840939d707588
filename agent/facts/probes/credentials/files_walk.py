"""File scan skip rules per OS: system, cache and known-store folders, binary file types."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from agent.facts.probes.credentials.per_os import PerOs

SYSTEM = "system_folder"  # caches, dependencies, VCS objects, trash, temp: never user secrets
STORE = "store_folder"  # browser and mail profiles: read by their own known-store finders
BINARY = "binary"
SYSTEM_FILE = "system_file"
LINK = "symlink"  # links are never followed; on Windows that includes the legacy junctions
CLOUD = "cloud_folder"  # files there may be online-only: reading one would download it


def _paths(reason: str, *paths: str) -> dict[tuple[str, ...], str]:
    return {tuple(p.lower().split("/")): reason for p in paths}


@dataclass(frozen=True)
class SkipRules:
    """Which folders and files the content scan leaves out, and why (names compared lower-case)."""

    under_home: Mapping[tuple[str, ...], str]  # a folder path relative to a home
    anywhere: Mapping[tuple[str, ...], str]  # the last one to three folder names, at any depth
    binary_types: frozenset[str]  # file name extensions that are never text
    system_files: tuple[str, ...] = ()  # file name prefixes the OS keeps locked
    cloud_prefixes: tuple[str, ...] = ()  # folders right under the home, e.g. "OneDrive - Uni"

    def folder(self, parts: tuple[str, ...]) -> str | None:
        """Why a folder (its lower-case path under the home) is skipped, or None to enter it.

        ("node_modules",) -> "system_folder"; ("projects", "app", ".git", "objects") ->
        "system_folder"; (".mozilla",) -> "store_folder"; ("projects", ".git") -> None.
        """
        reason = self.under_home.get(parts)
        if reason is not None:
            return reason
        if len(parts) == 1 and parts[0].startswith(self.cloud_prefixes):
            return CLOUD
        for depth in (1, 2, 3):
            if len(parts) >= depth:
                reason = self.anywhere.get(parts[-depth:])
                if reason is not None:
                    return reason
        return None

    def file(self, name: str) -> str | None:
        """Why a file is skipped by its name alone: "photo.JPG" -> "binary", "notes.txt" -> None."""
        lowered = name.lower()
        if lowered.startswith(self.system_files):
            return SYSTEM_FILE
        suffix = lowered.rsplit(".", 1)[-1] if "." in lowered else ""
        return BINARY if suffix in self.binary_types else None


_BINARY_TYPE_GROUPS = (
    "png jpg jpeg gif bmp ico icns webp heic heif tif tiff psd raw cr2 nef",  # images
    "mp3 mp4 m4a m4v aac wav flac ogg opus mov avi mkv webm wmv",  # audio, video
    "zip gz tgz bz2 xz zst 7z rar tar jar war ear whl egg apk ipa dmg iso img deb rpm msi msix pkg",
    "pdf doc docx xls xlsx ppt pptx odt ods odp key pages numbers epub",  # compressed documents
    "exe dll sys so dylib o a lib obj class pyc pyo wasm bin node",  # code
    "ttf otf woff woff2 eot",  # fonts
    "sqlite sqlite3 db db-wal db-shm dat mdb accdb pst ost nst lnk",  # databases, mail stores
    "vmdk vdi vhd vhdx qcow2 ova",  # disk images
)
_BINARY_TYPES = frozenset(word for group in _BINARY_TYPE_GROUPS for word in group.split())

_ANYWHERE = {
    **_paths(
        SYSTEM,
        "node_modules",
        "bower_components",
        "__pycache__",
        "site-packages",
        "dist-packages",
        ".tox",
        ".nox",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".cache",
        ".npm",
        ".pnpm-store",
        ".yarn/cache",
        ".git/objects",
        ".git/lfs",
        ".hg/store",
        ".svn/pristine",
        ".gradle/caches",
        ".gradle/wrapper",
        ".m2/repository",
        ".cargo/registry",
        ".rustup/toolchains",
        "go/pkg/mod",
        ".terraform",
        "cache",
        "code cache",
        "gpucache",
        "cacheddata",
        "service worker",
        "crashpad",
    ),
    **_paths(
        STORE,
        ".mozilla",
        ".thunderbird",
        "firefox/profiles",
        "thunderbird/profiles",
    ),
}
# Linux browsers' folders (also inside flatpak sandboxes: .var/app/<id>/config/...).
_LINUX_BROWSERS = {
    **_paths(
        STORE,
        ".config/google-chrome",
        ".config/google-chrome-beta",
        ".config/chromium",
        ".config/bravesoftware",
        ".config/microsoft-edge",
        ".config/vivaldi",
        ".config/opera",
        ".config/google-chrome-unstable",
        ".config/microsoft-edge-beta",
        ".config/microsoft-edge-dev",
        ".config/opera-beta",
        ".config/opera-developer",
        ".config/slimjet",
        ".config/gabai/dissenter-browser",
        ".waterfox",
        ".moonchild productions/pale moon",
        "config/google-chrome",
        "config/chromium",
        "config/bravesoftware",
        "config/microsoft-edge",
        "config/vivaldi",
        "config/opera",
    ),
}

LINUX = SkipRules(
    under_home=_paths(
        SYSTEM,
        ".local/share/trash",
        ".local/share/containers",
        ".local/share/docker",
        ".local/share/flatpak",
        ".vscode/extensions",
        ".vscode-server",
        ".cursor/extensions",
        "snap/firefox/common/.cache",
    )
    | _paths(STORE, ".local/share/keyrings", ".pki/nssdb", "snap/chromium/common/chromium"),
    anywhere=_ANYWHERE | _LINUX_BROWSERS,
    binary_types=_BINARY_TYPES,
)

DARWIN = SkipRules(
    under_home=_paths(
        SYSTEM,
        ".trash",
        "library/caches",
        "library/containers",
        "library/group containers",
        "library/developer",
        "library/logs/diagnosticreports",
        "library/metadata",
        "library/biome",
        "library/photos",
        ".vscode/extensions",
        ".cursor/extensions",
    )
    | _paths(CLOUD, "library/mobile documents", "library/cloudstorage")
    | _paths(
        STORE,
        "library/keychains",
        "library/cookies",
        "library/mail",
        "library/safari",
        "library/application support/google/chrome",
        "library/application support/chromium",
        "library/application support/bravesoftware",
        "library/application support/microsoft edge",
        "library/application support/google/chrome beta",
        "library/application support/google/chrome dev",
        "library/application support/google/chrome canary",
        "library/application support/microsoft edge beta",
        "library/application support/microsoft edge dev",
        "library/application support/microsoft edge canary",
        "library/application support/vivaldi",
        "library/application support/com.operasoftware.opera",
        "library/application support/com.operasoftware.operagx",
        "library/application support/firefox",
        "library/application support/thunderbird",
        "library/thunderbird",
    ),
    anywhere=_ANYWHERE,
    binary_types=_BINARY_TYPES,
)

WINDOWS = SkipRules(
    under_home=_paths(
        SYSTEM,
        "appdata/local/temp",
        "appdata/local/packages",
        "appdata/local/microsoft/windows",
        "appdata/local/crashdumps",
        "appdata/local/pip/cache",
        "appdata/local/npm-cache",
        "appdata/roaming/npm-cache",
        ".vscode/extensions",
        ".cursor/extensions",
    )
    | _paths(
        STORE,
        "appdata/local/google/chrome/user data",
        "appdata/local/microsoft/edge/user data",
        "appdata/local/google/chrome beta/user data",
        "appdata/local/google/chrome dev/user data",
        "appdata/local/google/chrome sxs/user data",
        "appdata/local/microsoft/edge beta/user data",
        "appdata/local/microsoft/edge dev/user data",
        "appdata/local/microsoft/edge sxs/user data",
        "appdata/local/vivaldi/user data",
        "appdata/roaming/opera software/opera stable",
        "appdata/roaming/opera software/opera gx stable",
        "appdata/local/7star/7star/user data",
        "appdata/local/amigo/user data",
        "appdata/local/centbrowser/user data",
        "appdata/local/chedot/user data",
        "appdata/local/coccoc/browser/user data",
        "appdata/local/comodo/dragon/user data",
        "appdata/local/dcbrowser/user data",
        "appdata/local/elements browser/user data",
        "appdata/local/epic privacy browser/user data",
        "appdata/local/iridium/user data",
        "appdata/local/kometa/user data",
        "appdata/local/orbitum/user data",
        "appdata/local/tencent/qqbrowser/user data",
        "appdata/local/slimjet/user data",
        "appdata/roaming/sogouexplorer/webkit/user data",
        "appdata/local/sputnik/sputnik/user data",
        "appdata/local/torch/user data",
        "appdata/local/ucozmedia/uran/user data",
        "appdata/local/yandex/yandexbrowser/user data",
        "appdata/local/ucbrowser",
        "appdata/roaming/netgate technologies/blackhawk",
        "appdata/roaming/8pecxstudios/cyberfox",
        "appdata/roaming/comodo/icedragon",
        "appdata/roaming/k-meleon",
        "appdata/roaming/moonchild productions/pale moon",
        "appdata/roaming/basilisk-dev/basilisk",
        "appdata/roaming/athenian200/epyrus",
        "appdata/roaming/binaryoutcast/interlink",
        "appdata/local/bravesoftware",
        "appdata/local/chromium",
        "appdata/roaming/mozilla",
        "appdata/local/mozilla",
        "appdata/roaming/thunderbird",
        "appdata/local/thunderbird",
        "appdata/local/microsoft/outlook",
        "appdata/roaming/microsoft/credentials",
        "appdata/local/microsoft/credentials",
        "appdata/local/microsoft/vault",
        "appdata/roaming/microsoft/protect",
    )
    # Compatibility junctions (Context.scandir reports them as folders): they deny listing.
    | _paths(
        LINK,
        "application data",
        "cookies",
        "local settings",
        "my documents",
        "nethood",
        "printhood",
        "recent",
        "sendto",
        "start menu",
        "templates",
        "appdata/local/application data",
        "appdata/local/history",
        "appdata/local/temporary internet files",
        "documents/my music",
        "documents/my pictures",
        "documents/my videos",
    ),
    anywhere=_ANYWHERE,
    binary_types=_BINARY_TYPES,
    system_files=("ntuser.", "usrclass."),
    cloud_prefixes=("onedrive", "iclouddrive", "dropbox"),
)

RULES: PerOs[SkipRules] = PerOs(linux=LINUX, darwin=DARWIN, windows=WINDOWS)
