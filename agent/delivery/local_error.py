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
    show, and `agent status` finds the full disk itself (free_space_problem).
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


def free_space_problem(folder: Path) -> str | None:
    """'<folder>: no space left on device (4096 bytes free)' when nothing more would fit."""
    try:
        if hasattr(os, "statvfs"):
            fs = os.statvfs(folder)
            # The agent runs as root, and root may use the blocks reserved for it.
            blocks = fs.f_bfree if os.geteuid() == 0 else fs.f_bavail
            free = blocks * fs.f_frsize
            if fs.f_files and not (fs.f_ffree if os.geteuid() == 0 else fs.f_favail):
                return f"{folder}: no space left on device (no free inodes)"
        else:
            free = shutil.disk_usage(folder).free
    except OSError as exc:
        log.warning("cannot tell the free space in %s: %s", folder, exc)
        return None
    if free < MIN_FREE_BYTES:
        return f"{folder}: no space left on device ({free} bytes free)"
    return None


def write_problem(state_dir: Path, spool_folder: Path) -> LocalError | None:
    """The recorded write error, else a full disk seen now, else None."""
    recorded = load_local_error(state_dir)
    if recorded is not None:
        return recorded
    found = free_space_problem(spool_folder)
    return LocalError(found) if found else None
