"""The walk: every home, breadth first, with the credential scan's skip rules and budgets,
each Office file and PDF handed to its reader; what could not be read is said, not dropped."""

from __future__ import annotations

import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field

from agent.facts.context import Context, FactUnavailable, FileMissing
from agent.facts.probes.credentials.files_walk import CLOUD, LINK, RULES, SkipRules
from agent.facts.probes.credentials.per_os import join
from agent.facts.probes.credentials.scan import Home, display_path
from agent.facts.probes.data_labels.judge import Mark, Markings
from agent.facts.probes.data_labels.model import DataFinding, FileNotInspected
from agent.facts.probes.data_labels.office import inspect_office
from agent.facts.probes.data_labels.pdf import inspect_pdf
from agent.facts.probes.data_labels.settings import DataSettings

Reader = Callable[[Context, str, int, DataSettings, Markings], tuple[list[Mark], int]]
_OFFICE: tuple[str, ...] = ("docx", "docm", "dotx", "dotm", "xlsx", "xlsm", "xltx", "xltm")
_OFFICE += ("pptx", "pptm", "potx", "potm", "ppsx", "ppsm")
READERS: dict[str, Reader] = {**dict.fromkeys(_OFFICE, inspect_office), "pdf": inspect_pdf}
NAMED = 20  # unreadable files named one by one; past that they are counted
# Cloud folders are not entered (an online-only file would be downloaded to be read), yet with
# OneDrive's Known Folder Move they hold Documents and Desktop: not looked at is not clean.
CLOUD_UNREAD = "a cloud-synced folder: its files may be online-only, so they were not read"


def reader_for(name: str) -> Reader | None:
    """The reader for a file by its extension: "Plan.DOCX" -> Office, "~$Plan.docx" (Office's
    lock file, not a document) -> None."""
    if name.startswith("~$") or "." not in name:
        return None
    return READERS.get(name.rsplit(".", 1)[-1].lower())


@dataclass
class DataScan:
    """Mutable state of one run; the probe turns it into DataLabelsData."""

    ctx: Context
    settings: DataSettings
    homes: list[Home]
    started: float = field(default_factory=time.monotonic)
    findings: list[DataFinding] = field(default_factory=list)
    not_inspected: list[FileNotInspected] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    files_inspected: int = 0
    bytes_read: int = 0
    stopped: str | None = None  # the budget that ended the walk

    def display(self, path: str) -> str:
        return display_path(self.homes, path)

    def not_read(self, path: str, reason: str) -> None:
        self.skipped["unreadable"] += 1
        if self.skipped["unreadable"] <= NAMED:
            self.not_inspected.append(FileNotInspected(location=self.display(path), reason=reason))

    def budget_spent(self) -> str | None:
        if self.stopped is None and self.files_inspected >= self.settings.max_files:
            self.stopped = f"file budget ({self.settings.max_files} files)"
        if self.stopped is None and time.monotonic() - self.started > self.settings.time_budget_s:
            self.stopped = f"time budget ({self.settings.time_budget_s:g} s)"
        return self.stopped


def _inspect(scan: DataScan, path: str, size: int, read: Reader, markings: Markings) -> None:
    try:
        marks, read_bytes = read(scan.ctx, path, size, scan.settings, markings)
    except FileMissing:
        scan.skipped["vanished"] += 1
        return
    except FactUnavailable as exc:
        scan.not_read(path, str(exc).replace(path, scan.display(path)) or type(exc).__name__)
        return
    scan.files_inspected += 1
    scan.bytes_read += read_bytes
    shown = scan.display(path)
    for mark in marks:
        scan.findings.append(
            DataFinding(location=shown, kind=mark.kind, label=mark.label, where=mark.where)
        )


def _note_cloud_folder(scan: DataScan, path: str) -> None:
    """A cloud folder with anything in it is not inspected; an empty one (Windows makes an
    OneDrive folder before anyone signs in) holds nothing to miss."""
    try:
        if not scan.ctx.scandir(path):
            return
    except FileMissing:
        return
    except FactUnavailable as exc:
        scan.not_read(path, f"cannot list the folder: {type(exc).__name__}")
        return
    scan.not_inspected.append(FileNotInspected(location=scan.display(path), reason=CLOUD_UNREAD))


def walk_home(scan: DataScan, home: Home, rules: SkipRules, markings: Markings) -> None:
    """One home, never following links; stops when a budget is spent, saying what is left."""
    queue: deque[tuple[str, tuple[str, ...]]] = deque([(home.path, ())])
    left_before = scan.skipped["budget"]
    while queue and not scan.budget_spent():
        folder, parts = queue.popleft()
        try:
            entries = scan.ctx.scandir(folder)
        except FileMissing:
            continue
        except FactUnavailable as exc:
            scan.not_read(folder, f"cannot list the folder: {type(exc).__name__}")
            continue
        for entry in entries:
            path = join(scan.ctx, folder, entry.name)
            if entry.kind == "dir":
                below = (*parts, entry.name.lower())
                reason = rules.folder(below)
                if reason is None:
                    queue.append((path, below))
                else:
                    scan.skipped[reason] += 1
                if reason == CLOUD:
                    _note_cloud_folder(scan, path)
            elif entry.kind == "link":
                scan.skipped[LINK] += 1
            elif entry.kind == "file":
                read = reader_for(entry.name)
                if read is not None and scan.budget_spent() is None:
                    _inspect(scan, path, entry.size, read, markings)
                elif read is not None:
                    scan.skipped["budget"] += 1
    if scan.stopped is not None:
        documents = scan.skipped["budget"] - left_before
        scan.not_inspected.append(
            FileNotInspected(
                location=scan.display(home.path),
                reason=f"stopped by the {scan.stopped}: {documents} documents seen and"
                f" {len(queue)} folders not inspected",
            )
        )


def scan_homes(scan: DataScan) -> None:
    """Every home, with the skip rules of the machine's OS."""
    rules = RULES.pick(scan.ctx)
    markings = Markings(scan.settings.markings)
    for home in scan.homes:
        if scan.budget_spent():
            scan.not_inspected.append(
                FileNotInspected(
                    location=scan.display(home.path), reason=f"not scanned: the {scan.stopped}"
                )
            )
            continue
        walk_home(scan, home, rules, markings)
