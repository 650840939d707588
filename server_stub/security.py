"""Secrets the collector hands out (device secrets, tokens) and how it stores them: hashed."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_PASSWORDS = PasswordHasher()


def new_secret(prefix: str) -> str:
    """A 256-bit random secret with a readable prefix (e.g. 'osd_' device, 'ose_' enrolment)."""
    return prefix + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """SHA-256 is right for 256-bit random tokens (nothing to brute-force); argon2 is for
    passwords, which people choose."""
    return hashlib.sha256(token.encode()).hexdigest()


def hash_password(password: str) -> str:
    return _PASSWORDS.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return _PASSWORDS.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
