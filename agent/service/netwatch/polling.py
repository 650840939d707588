"""The portable watcher: no notification, so the service compares fingerprints on a timer."""

from __future__ import annotations

import threading

POLL_S = 5.0


class PollingWatcher:
    """Wakes every POLL_S seconds; the fingerprint comparison decides whether anything changed."""

    check_every_s = POLL_S

    def __init__(self) -> None:
        self._sleep = threading.Event()

    def wait(self, timeout: float) -> bool:
        self._sleep.wait(min(timeout, POLL_S))
        self._sleep.clear()
        return False

    def wake(self) -> None:
        self._sleep.set()

    def close(self) -> None:
        self._sleep.set()
