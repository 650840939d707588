"""The last write to the state directory that failed (a full disk...), kept for `agent status`."""

from __future__ import annotations

import json
import logging
import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

from agent.report import rfc3339
from agent.state_dir import LOCAL_ERROR, StateWriteError, write_private

log = logging.getLogger(__name__)
# Below this a report (a few kB) and the files beside it may not fit: the disk counts as full.
MIN_FREE_BYTES = 64 * 1024


@dataclass(frozen=True)
class LocalError:
    """What cannot be written; `at` is None when found now by looking at free space."""

    error: str
    at: str | None = None


def record_local_error(state_dir: Path, error: str, now: float) -> StateWriteError | None:
    """Keep the error for `agent status` until a later write succeeds.

    On a full disk this write fails too: the error it raised is returned for the caller to
    show, and `agent status` finds the full disk itself (file_system_problem).
    """
    try:
        write_private(state_dir / LOCAL_ERROR, json.dumps(asdict(LocalError(error, rfc3339(now)))))
    except StateWriteError as exc:
        return exc
    return None


def clear_local_error(state_dir: Path) -> None:
    """A write succeeded: the recorded error is history."""
    try:
        (state_dir / LOCAL_ERROR).unlink(missing_ok=True)
    except OSError as exc:
        raise StateWriteError(state_dir / LOCAL_ERROR, exc) from exc


def load_local_error(state_dir: Path) -> LocalError | None:
    try:
        raw = json.loads((state_dir / LOCAL_ERROR).read_text())
        return LocalError(error=str(raw["error"]), at=raw.get("at"))
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError, OSError) as exc:
        return LocalError(f"{state_dir / LOCAL_ERROR} unreadable: {exc}")


def file_system_problem(folder: Path) -> str | None:
    """Why nothing more can be written in `folder` now, looking without writing: the file
    system is full ('no space left on device (4096 bytes free)', or out of inodes) or
    read-only. None when a report would fit, or when the folder cannot be looked at."""
    inodes_left = True
    try:
        if hasattr(os, "statvfs"):
            fs = os.statvfs(folder)
            if fs.f_flag & os.ST_RDONLY:
                return f"{folder}: read-only file system"
            root = os.geteuid() == 0  # root may use the blocks and inodes reserved for it
            free = (fs.f_bfree if root else fs.f_bavail) * fs.f_frsize
            inodes_left = not fs.f_files or bool(fs.f_ffree if root else fs.f_favail)
        else:  # Windows: free space only
            free = shutil.disk_usage(folder).free
    except OSError as exc:
        log.warning("cannot tell the free space in %s: %s", folder, exc)
        return None
    if free < MIN_FREE_BYTES:
        return f"{folder}: no space left on device ({free} bytes free)"
    if not inodes_left:
        return f"{folder}: no space left on device (no free inodes)"
    return None


def write_problem(state_dir: Path, spool_folder: Path) -> LocalError | None:
    """The recorded write error, else a full or read-only file system seen now, else None."""
    recorded = load_local_error(state_dir)
    if recorded is not None:
        return recorded
    found = file_system_problem(spool_folder if spool_folder.exists() else state_dir)
    return LocalError(found) if found else None
