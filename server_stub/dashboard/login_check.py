"""Password checks for the login form: throttled per account and per address through the
database (so every worker process sees the same counts), the same argon2 work for unknown
accounts, and argon2 in its own small thread pool so a flood cannot stall the other routes."""

from __future__ import annotations

import asyncio
import hashlib
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy.orm import Session, sessionmaker

from server_stub.security import hash_password, new_secret, verify_password
from server_stub.storage.admins import (
    add_login_failure,
    clear_login_failures,
    login_failures,
    open_session,
    password_hash_of,
)
from server_stub.storage.audit import record
from server_stub.storage.clock import utcnow

# Failures allowed before waits begin, per kind of key: an office behind one NAT address
# shares its address's allowance, so addresses get more.
FREE_FAILURES = {"account": 5, "address": 20}
FIRST_WAIT_S = 1.0  # then doubling with each further failure
MAX_WAIT_S = 15 * 60.0
FORGET_AFTER = timedelta(hours=1)  # a key quiet this long starts counting again from zero
# argon2 takes ~64 MiB and most of a core per check: two at once per process at most, and
# a queue beyond that is answered at once (429) rather than held.
HASH_THREADS = 2
MAX_WAITING = 16
_POOL = ThreadPoolExecutor(max_workers=HASH_THREADS, thread_name_prefix="password")
_waiting = 0
_waiting_lock = threading.Lock()


@cache
def _dummy_hash() -> str:
    """A hash with the real parameters, checked for unknown accounts so they cost the same."""
    return hash_password(new_secret("dummy_"))


def account_key(username: str) -> str:
    # Hashed: a password typed into the username field must not be stored as it was typed.
    return "account:" + hashlib.sha256(username.encode()).hexdigest()[:40]


def address_key(address: str) -> str:
    return "address:" + address[:64]


def wait_seconds(failures: int, last: datetime, free: int, now: datetime) -> float:
    """How long until the next attempt may be checked: none within the free failures, then
    1 s, 2 s, 4 s... (capped) from the last failure."""
    if failures < free or now - last >= FORGET_AFTER:
        return 0.0
    wait: float = min(FIRST_WAIT_S * 2.0 ** (failures - free), MAX_WAIT_S)
    return max(0.0, wait - (now - last).total_seconds())


@dataclass(frozen=True)
class LoginResult:
    """A session (id, csrf) on success; else retry_after > 0 when throttled or busy."""

    session: tuple[str, str] | None = None
    retry_after: float = 0.0


def _keys(username: str, address: str) -> dict[str, str]:
    return {"account": account_key(username), "address": address_key(address)}


def _throttled(sessions: sessionmaker[Session], keys: dict[str, str]) -> float:
    now = utcnow()
    with sessions.begin() as session:
        counts = login_failures(session, list(keys.values()))
    waits = [
        wait_seconds(*counts[key], FREE_FAILURES[kind], now)
        for kind, key in keys.items()
        if key in counts
    ]
    return max(waits, default=0.0)


def _check(
    sessions: sessionmaker[Session], username: str, password: str, address: str, hours: int
) -> LoginResult:
    """Runs in the password pool: throttle, argon2 (real or dummy), then record the outcome."""
    keys = _keys(username, address)
    wait = _throttled(sessions, keys)
    if wait > 0:
        return LoginResult(retry_after=wait)
    with sessions.begin() as session:
        found = password_hash_of(session, username)
    ok = verify_password(found[1] if found else _dummy_hash(), password) and found is not None
    with sessions.begin() as session:
        if found is not None and ok:
            clear_login_failures(session, keys["account"])
            record(session, username, "login", None, None)
            return LoginResult(session=open_session(session, found[0], hours))
        for key in keys.values():
            add_login_failure(session, key, utcnow() - FORGET_AFTER)
        # Only a known account is named: an unknown "name" may be a password typed in the
        # wrong field, so it is kept as a short hash that can match others but not be read.
        actor = username if found is not None else "unknown-account"
        detail = None if found is not None else "name-hash=" + keys["account"][8:20]
        record(session, actor, "login.failed", None, detail)
    return LoginResult()


async def check_login(
    sessions: sessionmaker[Session], username: str, password: str, address: str, hours: int
) -> LoginResult:
    """The login's outcome, computed off the event loop in the password pool."""
    global _waiting
    with _waiting_lock:
        if _waiting >= MAX_WAITING:
            return LoginResult(retry_after=FIRST_WAIT_S)
        _waiting += 1
    try:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            _POOL, _check, sessions, username, password, address, hours
        )
    finally:
        with _waiting_lock:
            _waiting -= 1


def warm_up() -> None:
    """Compute the dummy hash now, so the first unknown account is not faster than the rest."""
    _dummy_hash()
