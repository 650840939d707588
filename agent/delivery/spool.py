"""A durable on-disk queue of reports not yet accepted: atomic files, oldest first, bounded."""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.state_dir import fsync_dir, write_private

log = logging.getLogger(__name__)
MAX_REPORTS = 500
MAX_BYTES = 20 * 1024 * 1024
COUNTERS = "counters.json"
REPORT_FILES = "[0-9]*-*.json"


@dataclass(frozen=True)
class Spooled:
    """A report waiting in the spool."""

    path: Path
    report: dict[str, Any]


class Spool:
    """Reports are files named <nanoseconds>-<report_id>.json; the name orders them."""

    def __init__(self, folder: Path, max_reports: int = MAX_REPORTS, max_bytes: int = MAX_BYTES):
        self.folder = folder
        self.max_reports = max_reports
        self.max_bytes = max_bytes
        for sub in (folder, folder / "quarantine", folder / "rejected"):
            sub.mkdir(parents=True, exist_ok=True, mode=0o700)

    def _files(self) -> list[Path]:
        # Reports only (<digits>-<id>.json): counters.json lives beside them.
        return sorted(self.folder.glob(REPORT_FILES), key=lambda p: p.name)

    @property
    def depth(self) -> int:
        return len(self._files())

    @property
    def dropped(self) -> int:
        try:
            return int(json.loads((self.folder / COUNTERS).read_text())["dropped"])
        except FileNotFoundError:
            return 0
        except (ValueError, KeyError, OSError) as exc:
            log.warning("spool counters unreadable (%s): counting from 0", exc)
            return 0

    def _add_dropped(self, count: int) -> None:
        payload = json.dumps({"dropped": self.dropped + count}).encode()
        write_private(self.folder / COUNTERS, payload)

    def put(self, report: dict[str, Any]) -> Path:
        """Keep a report durably before any attempt to send it; trims the oldest when full."""
        data = json.dumps(report, separators=(",", ":")).encode()
        path = self.folder / f"{time.time_ns():020d}-{report['report_id']}.json"
        write_private(path, data)
        self._trim()
        return path

    def _trim(self) -> None:
        files = self._files()
        sizes = {f: f.stat().st_size for f in files}
        total = sum(sizes.values())
        dropped = 0
        while files and (len(files) > self.max_reports or total > self.max_bytes):
            oldest = files.pop(0)
            total -= sizes[oldest]
            oldest.unlink(missing_ok=True)
            dropped += 1
        if dropped:
            log.warning("spool full: dropped the %d oldest report(s)", dropped)
            self._add_dropped(dropped)

    def pending(self) -> Iterator[Spooled]:
        """Oldest first; a file that is not a report is quarantined, not fatal."""
        for path in self._files():
            try:
                report = json.loads(path.read_bytes())
                if not isinstance(report, dict) or "report_id" not in report:
                    raise ValueError("not a report")
            except FileNotFoundError:
                continue  # sent and removed by another agent process meanwhile
            except (ValueError, OSError) as exc:
                log.error("spool file %s is corrupt (%s): quarantined", path.name, exc)
                os.replace(path, self.folder / "quarantine" / path.name)
                continue
            yield Spooled(path, report)

    def done(self, item: Spooled) -> None:
        item.path.unlink(missing_ok=True)
        fsync_dir(self.folder)

    def reject(self, item: Spooled, reason: str) -> None:
        """Set aside a report the collector refused for good; it is never retried."""
        log.error("report %s rejected by the collector: %s", item.report["report_id"], reason)
        os.replace(item.path, self.folder / "rejected" / item.path.name)
