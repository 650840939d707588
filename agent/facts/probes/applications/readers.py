"""The readers every applications OS module exposes, one per fact."""

from __future__ import annotations

from typing import Protocol

from agent.facts.probes.applications.model import Application
from agent.facts.probes.base import Reading

# A web app runs inside its browser: the browser's version is what PATCH-005 checks.
WEB_APP_VERSION = "an installed web app runs in its browser, whose version is listed"


class ApplicationsReaders(Protocol):
    """What linux.py, darwin.py and windows.py each define; one that cannot read a fact raises
    FactUnavailable saying why."""

    def read_browsers(self, reading: Reading) -> list[Application]: ...
    def read_tiktok(self, reading: Reading) -> list[Application]: ...
