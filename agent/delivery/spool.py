"""A durable on-disk queue of reports not yet accepted: atomic files, in sequence, bounded."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from agent.config import SPOOL_MAX_BYTES, SPOOL_MAX_REPORTS
from agent.report import rfc3339
from agent.state_dir import (
    TEMP_FILES,
    StateWriteError,
    fsync_dir,
    remove_durably,
    remove_stale_temp_files,
    rename_durably,
    write_private,
)

log = logging.getLogger(__name__)
# Reports stay plain JSON: readable by an administrator, and at ~14 MB for the default 4,000
# (agent/config.py says why 4,000) gzip's 2.4x would save little.
MAX_REPORTS = SPOOL_MAX_REPORTS
MAX_BYTES = SPOOL_MAX_BYTES
COUNTERS = "counters.json"
REPORT_FILES = "[0-9]*-*.json"
REPORT_NAME = re.compile(r"^(\d+)-(.+)\.json$")
REASON_CHARS = 300


class SpoolTrimError(StateWriteError):
    """The new report is kept, but the spool could not drop its oldest or count them."""


@dataclass(frozen=True)
class Spooled:
    """A report waiting in the spool."""

    path: Path
    report: dict[str, Any]


@dataclass(frozen=True)
class Rejection:
    """The last report the collector refused for good."""

    at: str
    report_id: str
    reason: str


@dataclass(frozen=True)
class Counters:
    """What left the spool unaccepted: dropped when full, refused for good, or unreadable."""

    dropped: int = 0
    rejected: int = 0
    last_rejected: Rejection | None = None
    quarantined: int = 0


def sequence_of(path: Path) -> int | None:
    """The sequence number a report file is named by; None for anything else."""
    match = REPORT_NAME.match(path.name)
    return int(match[1]) if match else None


class Spool:
    """Reports are files named <sequence>-<report_id>.json, sent lowest sequence first.

    The sequence is one more than the highest in the spool, never the clock: a clock set back
    must not make a new report look older than the ones waiting. Files of older agents are
    named <nanoseconds>-<report_id>.json; their number serves as their sequence, so they are
    sent first and new reports follow them.
    """

    def __init__(
        self,
        folder: Path,
        max_reports: int = MAX_REPORTS,
        max_bytes: int = MAX_BYTES,
        prepare: bool = True,
    ) -> None:
        """prepare: make the folders and remove leftovers; False only looks (`agent status`
        must work on a read-only or full disk, and before the first report)."""
        self.folder = folder
        self.max_reports = max_reports
        self.max_bytes = max_bytes
        if not prepare:
            return
        for sub in (folder, folder / "quarantine", folder / "rejected"):
            try:
                sub.mkdir(parents=True, exist_ok=True, mode=0o700)
            except OSError as exc:
                raise StateWriteError(sub, exc) from exc
        remove_stale_temp_files(folder)

    def _files(self) -> list[Path]:
        # Reports only (<digits>-<id>.json): counters.json lives beside them.
        numbered = [(sequence_of(p), p) for p in self.folder.glob(REPORT_FILES)]
        return [p for n, p in sorted((n, p) for n, p in numbered if n is not None)]

    @property
    def depth(self) -> int:
        return len(self._files())

    def counters(self) -> Counters:
        try:
            raw = json.loads((self.folder / COUNTERS).read_text())
            last = raw.get("last_rejected")
            return Counters(
                dropped=int(raw.get("dropped", 0)),
                rejected=int(raw.get("rejected", 0)),
                last_rejected=Rejection(**last) if last else None,
                quarantined=int(raw.get("quarantined", 0)),
            )
        except FileNotFoundError:
            return Counters()
        except (ValueError, TypeError, AttributeError, OSError) as exc:
            log.warning("spool counters unreadable (%s): counting from 0", exc)
            return Counters()

    @property
    def dropped(self) -> int:
        return self.counters().dropped

    def _save_counters(self, counters: Counters) -> None:
        write_private(self.folder / COUNTERS, json.dumps(asdict(counters)).encode())

    def put(self, report: dict[str, Any]) -> Path:
        """Keep a report durably before any attempt to send it; trims the oldest when full.

        Raises StateWriteError when it cannot be kept (disk full...), nothing left behind;
        SpoolTrimError (a StateWriteError) when it is kept but the oldest could not be dropped.
        """
        data = json.dumps(report, separators=(",", ":")).encode()
        files = self._files()
        sequence = (sequence_of(files[-1]) or 0) + 1 if files else 1
        path = self.folder / f"{sequence:020d}-{report['report_id']}.json"
        write_private(path, data)
        try:
            self._trim()
        except StateWriteError as exc:
            raise SpoolTrimError(exc.path, exc) from exc
        return path

    def _trim(self) -> None:
        files = self._files()
        sizes = {f: _size(f) for f in files}
        # Writes in progress (or leftovers younger than a minute) take room too.
        total = sum(sizes.values()) + sum(_size(t) for t in self.folder.glob(TEMP_FILES))
        dropped = 0
        # The newest report is never dropped: it gets at least one try, however large it is.
        try:
            while len(files) > 1 and (len(files) > self.max_reports or total > self.max_bytes):
                oldest = files.pop(0)
                total -= sizes[oldest]
                oldest.unlink(missing_ok=True)
                dropped += 1
            if dropped:  # one folder fsync for them all: a lowered bound may drop thousands
                fsync_dir(self.folder)
        except OSError as exc:
            raise StateWriteError(self.folder, exc) from exc
        if dropped:
            log.warning("spool full: dropped the %d oldest report(s)", dropped)
            counters = self.counters()
            self._save_counters(replace(counters, dropped=counters.dropped + dropped))

    def pending(self) -> Iterator[Spooled]:
        """Lowest sequence first; a file that is not a report is quarantined, not fatal."""
        for path in self._files():
            try:
                report = json.loads(path.read_bytes())
                if not isinstance(report, dict) or "report_id" not in report:
                    raise ValueError("not a report")
            except FileNotFoundError:
                continue  # sent and removed by another agent process meanwhile
            except (ValueError, OSError) as exc:
                log.error("spool file %s is corrupt (%s): quarantined", path.name, exc)
                rename_durably(path, self.folder / "quarantine" / path.name)
                counters = self.counters()
                self._save_counters(replace(counters, quarantined=counters.quarantined + 1))
                continue
            yield Spooled(path, report)

    def done(self, item: Spooled) -> None:
        remove_durably(item.path)

    def reject(self, item: Spooled, reason: str, now: float) -> None:
        """Set aside a report the collector refused for good, and count it; never retried."""
        report_id = str(item.report["report_id"])
        # A warning: `agent send` says it in one line of its own, `agent status` keeps it.
        log.warning("report %s rejected by the collector: %s", report_id, reason)
        rename_durably(item.path, self.folder / "rejected" / item.path.name)
        counters = self.counters()
        last = Rejection(rfc3339(now), report_id, reason[:REASON_CHARS])
        self._save_counters(replace(counters, rejected=counters.rejected + 1, last_rejected=last))


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:  # sent, or its write finished, in another agent process
        return 0
