"""The device secret: in the OS keyring (keyring), or a 0600 file where no backend works."""

from __future__ import annotations

import logging
from pathlib import Path
from types import ModuleType

from agent.state_dir import DEVICE_SECRET, write_private

log = logging.getLogger(__name__)
SERVICE = "outpost-agent"


def _keyring() -> ModuleType:
    """keyring, imported only on the keyring path: it costs the agent ~13 MB of RSS, which a
    headless service keeping its secret in a file should not carry."""
    import keyring

    return keyring


def _keyring_error() -> type[Exception]:
    from keyring.errors import KeyringError

    return KeyringError


class SecretMissing(Exception):
    """The device secret is not where the enrolment record says it is."""


def store_secret(state_dir: Path, device_id: str, secret: str) -> str:
    """Keep the secret; returns where it went ("keyring:<backend>" or "file:<path>")."""
    keyring = _keyring()
    backend = keyring.get_keyring()
    try:
        keyring.set_password(SERVICE, device_id, secret)
        if keyring.get_password(SERVICE, device_id) == secret:
            return f"keyring:{type(backend).__module__}.{type(backend).__name__}"
        reason = "the keyring backend did not keep the secret"
    except _keyring_error() as exc:
        reason = f"no usable keyring backend ({type(exc).__name__})"
    path = state_dir / DEVICE_SECRET
    write_private(path, secret)
    log.info("device secret stored in %s: %s", path, reason)
    return f"file:{path}"


def load_secret(store: str, device_id: str) -> str:
    kind, _, where = store.partition(":")
    if kind == "keyring":
        try:
            secret = _keyring().get_password(SERVICE, device_id)
        except _keyring_error() as exc:
            raise SecretMissing(f"the keyring cannot be read ({type(exc).__name__})") from exc
        if not secret:
            raise SecretMissing("the device secret is missing from the keyring")
        return str(secret)
    try:
        return Path(where).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise SecretMissing(f"cannot read the device secret file {where}: {exc.strerror}") from exc


def forget_secret(store: str, device_id: str) -> None:
    kind, _, where = store.partition(":")
    if kind == "keyring":
        try:
            _keyring().delete_password(SERVICE, device_id)
        except _keyring_error() as exc:
            log.warning("could not remove the old secret from the keyring: %s", exc)
    else:
        Path(where).unlink(missing_ok=True)
