"""The agent's state directory: the name of every file in it, and the one way to write them.

Layout (0700, owned by the agent's user):

    enrolment.json    which device this is and where it reports (delivery/enrolment.py)
    device_secret     the secret, only where no OS keyring works (delivery/secret_store.py)
    status.json       the last success and error talking to the collector (last_exchange.py)
    policy.toml       the organisation's policy as last fetched, and policy.etag its version
    fingerprint.key   the per-device HMAC key for credential finding fingerprints
    spool/            reports waiting to be sent (delivery/spool.py), logs/ the service's log
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

log = logging.getLogger(__name__)

ENROLMENT = "enrolment.json"
DEVICE_SECRET = "device_secret"
LAST_EXCHANGE = "status.json"
CACHED_POLICY = "policy.toml"
POLICY_ETAG = "policy.etag"
FINGERPRINT_KEY = "fingerprint.key"
SPOOL = "spool"
LOGS = "logs"


def fsync_dir(folder: Path) -> None:
    """Make a rename or unlink in `folder` durable (Windows cannot open folders; NTFS journals)."""
    if os.name == "nt":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_private(path: Path, data: bytes | str) -> None:
    """After a crash the file is whole or absent, never half-written; only its owner reads it:
    temp file, fsync, rename, fsync the folder; mode 0600."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    payload = data.encode() if isinstance(data, str) else data
    temporary = path.with_name(f".{path.name}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, payload)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temporary, path)
    fsync_dir(path.parent)


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
