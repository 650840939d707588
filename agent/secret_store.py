"""The device secret: in the OS keyring (keyring), or a 0600 file where no backend works."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import keyring
from keyring.errors import KeyringError

log = logging.getLogger(__name__)
SERVICE = "outpost-agent"
SECRET_FILE = "device_secret"


class SecretMissing(Exception):
    """The device secret is not where the enrolment record says it is."""


def write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read, atomically (temp file, fsync, rename)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(path.name + ".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, text.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temporary, path)


def store_secret(state_dir: Path, device_id: str, secret: str) -> str:
    """Keep the secret; returns where it went ("keyring:<backend>" or "file:<path>")."""
    backend = keyring.get_keyring()
    try:
        keyring.set_password(SERVICE, device_id, secret)
        if keyring.get_password(SERVICE, device_id) == secret:
            return f"keyring:{type(backend).__module__}.{type(backend).__name__}"
        reason = "the keyring backend did not keep the secret"
    except KeyringError as exc:
        reason = f"no usable keyring backend ({type(exc).__name__})"
    path = state_dir / SECRET_FILE
    write_private(path, secret)
    log.info("device secret stored in %s: %s", path, reason)
    return f"file:{path}"


def load_secret(store: str, device_id: str) -> str:
    kind, _, where = store.partition(":")
    if kind == "keyring":
        try:
            secret = keyring.get_password(SERVICE, device_id)
        except KeyringError as exc:
            raise SecretMissing(f"the keyring cannot be read ({type(exc).__name__})") from exc
        if not secret:
            raise SecretMissing("the device secret is missing from the keyring")
        return secret
    try:
        return Path(where).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise SecretMissing(f"cannot read the device secret file {where}: {exc.strerror}") from exc


def forget_secret(store: str, device_id: str) -> None:
    kind, _, where = store.partition(":")
    if kind == "keyring":
        try:
            keyring.delete_password(SERVICE, device_id)
        except KeyringError as exc:
            log.warning("could not remove the old secret from the keyring: %s", exc)
    else:
        Path(where).unlink(missing_ok=True)
