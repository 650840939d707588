"""File scan finder: organisation credentials left in files under the user homes, on a budget."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence

from agent.facts.context import Context, DirEntry, FactUnavailable, FileMissing
from agent.facts.probes.credentials.files_rules import (
    BINARY_PROBE,
    OrgIndex,
    as_text,
    find_in_text,
    is_binary,
)
from agent.facts.probes.credentials.files_walk import BINARY, LINK, RULES, SkipRules
from agent.facts.probes.credentials.per_os import PerOs, join, separator
from agent.facts.probes.credentials.scan import Home, ScanState
from agent.facts.probes.credentials.stores.vaults import PERSONAL_FOLDERS

Finder = Callable[[Context, ScanState], None]

STORE = "file"
SMALL_FILE = 64 * 1024  # read whole at once; a bigger file is probed for binary content first
EXAMPLES = 3  # unreadable paths named in the not-inspected entry

Folder = tuple[str, tuple[str, ...]]  # path, and its lower-case names below the home


def _budget_spent(scan: ScanState) -> str | None:
    """Which budget stops the scan now, if any (and mark the scan incomplete)."""
    settings = scan.settings
    if scan.files_scanned >= settings.max_files:
        scan.budget_exhausted = True
        return f"file budget ({settings.max_files} files)"
    if scan.out_of_time():
        return f"time budget ({settings.time_budget_s:g} s)"
    return None


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _child(folder: str, name: str, sep: str) -> str:
    return f"{folder}{name}" if folder.endswith(sep) else f"{folder}{sep}{name}"


class _HomeWalk:
    """One home, breadth first (shallow files first), never following links."""

    def __init__(
        self, ctx: Context, scan: ScanState, rules: SkipRules, index: OrgIndex, home: Home
    ) -> None:
        self.ctx, self.scan, self.rules, self.index, self.home = ctx, scan, rules, index, home
        self.sep = separator(ctx)
        self.queue: deque[Folder] = deque([(home.path, ())])
        self.unreadable: list[str] = []
        # The password-export finder (stores/vaults.py) reads the CSV files of these folders:
        # their export rows are its findings, not this scan's (one finding per export).
        self.export_folders = {
            join(ctx, home.path, f) if f else home.path for f in PERSONAL_FOLDERS
        }

    def run(self) -> str | None:
        """Walk the home; the budget that stopped it, or None when it was walked to the end."""
        stopped = None
        while self.queue:
            stopped = _budget_spent(self.scan)
            if stopped is not None:
                self._left(stopped, ())
                break
            stopped = self._folder(*self.queue.popleft())
            if stopped is not None:
                break
        if self.unreadable:
            shown = ", ".join(self.scan.display(p) for p in self.unreadable[:EXAMPLES])
            more = "" if len(self.unreadable) <= EXAMPLES else ", ..."
            count = len(self.unreadable)
            what = "1 file or folder" if count == 1 else f"{count} files or folders"
            self.scan.not_read(STORE, self.home.path, f"{what} could not be read: {shown}{more}")
        return stopped

    def _folder(self, folder: str, parts: tuple[str, ...]) -> str | None:
        try:
            entries = self.ctx.scandir(folder)
        except FileMissing:
            return None  # no such home, or the folder went away during the scan
        except FactUnavailable as exc:
            if not parts:
                self.scan.not_read(STORE, folder, f"cannot list the home: {exc}")
            else:
                self.scan.skipped["unreadable"] += 1
                self.unreadable.append(folder)
            return None
        vault_folder = folder.rstrip("/\\") in self.export_folders
        for position, entry in enumerate(entries):
            path = _child(folder, entry.name, self.sep)
            if entry.kind == "dir":
                below = (*parts, entry.name.lower())
                reason = self.rules.folder(below)
                if reason is None:
                    self.queue.append((path, below))
                else:
                    self.scan.skipped[reason] += 1
            elif entry.kind == "link":
                self.scan.skipped[LINK] += 1
            elif entry.kind == "other":
                self.scan.skipped["special"] += 1  # sockets, FIFOs, devices: reading may block
            else:
                stopped = _budget_spent(self.scan)
                if stopped is not None:
                    self._left(stopped, entries[position:])
                    return stopped
                self._file(path, entry, vault_folder)
        return None

    def _file(self, path: str, entry: DirEntry, vault_folder: bool) -> None:
        scan = self.scan
        reason = self.rules.file(entry.name)
        if reason is None and entry.size > scan.settings.max_file_bytes:
            reason = "too_large"
        if reason is not None:
            scan.skipped[reason] += 1
            return
        data = b""
        try:
            if entry.size > SMALL_FILE:
                data = self.ctx.read_bytes(path, BINARY_PROBE)  # a video must not be read whole
            if entry.size > 0 and not is_binary(data):
                # The listed size, not the budget: Python allocates the whole limit per read.
                data = self.ctx.read_bytes(path, min(entry.size, scan.settings.max_file_bytes))
        except FileMissing:
            scan.skipped["vanished"] += 1
            return
        except FactUnavailable:
            scan.skipped["unreadable"] += 1
            self.unreadable.append(path)
            return
        if is_binary(data):
            scan.skipped[BINARY] += 1
            return
        scan.files_scanned += 1
        scan.bytes_scanned += len(data)
        exports = not (vault_folder and entry.name.lower().endswith(".csv"))
        for found in find_in_text(as_text(data), self.index, exports=exports):
            scan.add(found.kind, STORE, path, found.identity, found.org_match)

    def _left(self, stopped: str, rest: Sequence[DirEntry]) -> None:
        """Say what the budget left out of this home: files seen but not read, folders unopened."""
        files = sum(1 for e in rest if e.kind == "file")
        folders = len(self.queue) + sum(1 for e in rest if e.kind == "dir")
        self.scan.skipped["budget"] += files
        self.scan.not_read(
            STORE,
            self.home.path,
            f"stopped by the {stopped}: {_count(files, 'file')} and {_count(folders, 'folder')}"
            " not scanned",
        )


def scan_homes(ctx: Context, scan: ScanState, rules: SkipRules) -> None:
    """Scan every home's files for organisation credentials, within the scan's budgets."""
    index = OrgIndex(scan.org)
    if index.empty:
        return
    for number, home in enumerate(scan.homes):
        stopped = _HomeWalk(ctx, scan, rules, index, home).run()
        if stopped is not None:
            for rest in scan.homes[number + 1 :]:
                scan.not_read(STORE, rest.path, f"not scanned: the {stopped} was spent")
            return


def find_files(ctx: Context, scan: ScanState) -> None:
    """The content scan of every home, with the skip rules of the machine's OS."""
    scan_homes(ctx, scan, RULES.pick(ctx))


FINDERS: PerOs[tuple[Finder, ...]] = PerOs(
    linux=(find_files,), darwin=(find_files,), windows=(find_files,)
)
