"""The applications probe's data: installed browsers and the TikTok app, with their versions."""

from __future__ import annotations

from dataclasses import dataclass

from agent.report import Gaps, fact, gaps_field


@dataclass(frozen=True, kw_only=True)
class Application:
    """One installed application and its version."""

    name: str = fact("chrome, edge, firefox, safari, chromium, brave, tiktok, tiktok_web_app.")
    version: str | None = fact("Installed version, e.g. '131.0.6778.85'; null when unreadable.")
    source: str = fact("Where it was read: a package, an app bundle, a registry key, a shortcut.")
    version_unknown: str | None = fact("Why the version is null (never set when it is read).")


@dataclass(frozen=True, kw_only=True)
class ApplicationsData:
    """Installed browsers and the TikTok desktop or web app, with versions (PATCH-005)."""

    browsers: list[Application] | None = fact("Installed browsers; an absent one is not listed.")
    tiktok: list[Application] | None = fact("The TikTok desktop app or installed web app.")
    gaps: Gaps = gaps_field()
