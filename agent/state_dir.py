"""The agent's state directory: the name of every file in it, and the one way to write them.

Layout (0700, owned by the agent's user):

    enrolment.json    which device this is and where it reports (delivery/enrolment.py)
    device_secret     the secret, only where no OS keyring works (delivery/secret_store.py)
    status.json       the last success and error talking to the collector, and how long the
                      collector asked to be left alone (last_exchange.py)
    local_error.json  the last write in this folder that failed, e.g. a full disk (local_error.py)
    policy.toml       the organisation's policy as last fetched, and policy.etag its version
    fingerprint.key   the per-device HMAC key for credential finding fingerprints
    probe_cache.json  the last full collection's slow probe results, reused by a report on a
                      network change (delivery/probe_cache.py)
    spool/            reports waiting to be sent (delivery/spool.py), logs/ the service's log
    .*.tmp            a write in progress; one older than a minute is a leftover of a crash
"""

from __future__ import annotations

import errno
import logging
import os
import secrets
import time
from pathlib import Path

log = logging.getLogger(__name__)

ENROLMENT = "enrolment.json"
DEVICE_SECRET = "device_secret"
LAST_EXCHANGE = "status.json"
LOCAL_ERROR = "local_error.json"
CACHED_POLICY = "policy.toml"
POLICY_ETAG = "policy.etag"
FINGERPRINT_KEY = "fingerprint.key"
PROBE_CACHE = "probe_cache.json"
SPOOL = "spool"
LOGS = "logs"
TEMP_FILES = ".*.tmp"
# A full disk and a full quota: the standard text, whatever the OS library says.
FULL = (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))
STALE_TEMP_S = 60.0  # no write of a few kB takes a minute: an older temp file is a leftover


class StateWriteError(OSError):
    """A file in the state directory could not be written whole; nothing half-written is left."""

    def __init__(self, path: Path, cause: OSError) -> None:
        super().__init__(cause.errno, cause.strerror or str(cause), str(path))
        self.path = path

    def __str__(self) -> str:
        return f"{self.path}: {describe_os_error(self)}"


def describe_os_error(error: OSError) -> str:
    """'no space left on device' rather than '[Errno 28] No space left on device: ...'."""
    if error.errno is not None and error.errno in FULL:
        text = os.strerror(error.errno)
    else:
        text = error.strerror or str(error)
    return text[:1].lower() + text[1:]


def fsync_dir(folder: Path) -> None:
    """Make a rename or unlink in `folder` durable (Windows cannot open folders; NTFS journals)."""
    if os.name == "nt":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_all(fd: int, payload: bytes) -> None:
    """os.write may write fewer bytes than asked (a full disk, a signal): write the rest."""
    view = memoryview(payload)
    while view:
        written = os.write(fd, view)
        if written <= 0:  # a regular file that takes nothing is full
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        view = view[written:]
    size = os.fstat(fd).st_size
    if size != len(payload):
        raise OSError(errno.EIO, f"wrote {size} of {len(payload)} bytes")


def write_private(path: Path, data: bytes | str) -> None:
    """After a crash the file is whole or absent, never half-written; only its owner reads it:
    temp file, every byte written and checked, fsync, rename, fsync the folder; mode 0600.

    Raises StateWriteError (an OSError: disk full, quota, read-only, I/O error) after removing
    its temp file; the file that was there before, if any, is untouched.
    """
    payload = data.encode() if isinstance(data, str) else data
    # A name of its own: two processes writing the same file must not share a temp file.
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise StateWriteError(path, exc) from exc
    try:
        try:
            _write_all(fd, payload)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temporary, path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise StateWriteError(path, exc) from exc
    try:
        fsync_dir(path.parent)
    except OSError as exc:  # the file is in place, but a crash now could still lose the rename
        raise StateWriteError(path, exc) from exc


def rename_durably(source: Path, target: Path) -> None:
    """Move a file within the state directory and make the move survive a crash."""
    try:
        os.replace(source, target)
        fsync_dir(target.parent)
        if source.parent != target.parent:
            fsync_dir(source.parent)
    except OSError as exc:
        raise StateWriteError(target, exc) from exc


def remove_durably(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
        fsync_dir(path.parent)
    except OSError as exc:
        raise StateWriteError(path, exc) from exc


def stale_temp_files(folder: Path, now: float | None = None) -> list[Path]:
    """Temp files of writes interrupted by a crash or a kill: older than STALE_TEMP_S."""
    now = time.time() if now is None else now
    stale = []
    for path in folder.glob(TEMP_FILES):
        try:
            if now - path.stat().st_mtime > STALE_TEMP_S:
                stale.append(path)
        except FileNotFoundError:
            continue  # its write just finished
    return stale


def remove_stale_temp_files(folder: Path) -> int:
    """Remove leftover temp files, log how many and how large; returns how many."""
    removed = size = 0
    for path in stale_temp_files(folder):
        try:
            size += path.stat().st_size
            path.unlink()
        except FileNotFoundError:
            continue
        except OSError as exc:  # not fatal: it only takes room, and counts against the limit
            log.warning("cannot remove the leftover temp file %s: %s", path, exc)
            continue
        removed += 1
    if removed:
        log.warning("removed %d leftover temp file(s), %d bytes, from %s", removed, size, folder)
    return removed


def fingerprint_key(state_dir: Path) -> bytes:
    """The per-device HMAC key for finding fingerprints: made once, kept 0600 in the state dir.

    Where the state directory cannot be written (a self-check by a user without one), the key
    lives for this run only: fingerprints are then stable within the run, not across runs.
    """
    path = state_dir / FINGERPRINT_KEY
    if not path.exists():
        key = secrets.token_bytes(32)
        try:
            write_private(path, key.hex())
        except OSError as exc:
            log.info("cannot keep a fingerprint key in %s (%s): using one for this run", path, exc)
        return key
    try:
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    except (OSError, ValueError) as exc:
        log.warning("fingerprint key %s unreadable (%s): using a key for this run", path, exc)
        return secrets.token_bytes(32)
