"""Dashboard users, admin API tokens, login sessions and the counts of failed logins."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server_stub.security import hash_password, new_secret, token_hash
from server_stub.storage.audit import record
from server_stub.storage.clock import as_utc, utcnow
from server_stub.storage.tables import Admin, ApiToken, LoginFailures, WebSession

DEFAULT_TOKEN_DAYS = 90
MAX_TOKEN_DAYS = 3650
LAST_USE_EVERY = timedelta(minutes=1)  # how stale last_used_at may be: a write at most this often


class AdminError(ValueError):
    """An admin operation that cannot be done."""


ROLES = ("admin", "viewer")


@dataclass(frozen=True)
class UserInfo:
    """A dashboard user as the users page lists it (never the password hash)."""

    username: str
    role: str
    created_at: datetime


def create_admin(
    session: Session, username: str, password: str, actor: str, role: str = "admin"
) -> None:
    """A dashboard user: an admin (changes things) or a viewer (only reads)."""
    if role not in ROLES:
        raise AdminError(f"the role must be one of {', '.join(ROLES)}, not {role!r}")
    if not username or len(username) > 100 or any(ord(c) < 0x21 for c in username):
        raise AdminError("the user name must be 1 to 100 characters, without spaces")
    if len(password) < 12:
        raise AdminError("the password must have at least 12 characters")
    if session.scalar(select(Admin.id).where(Admin.username == username)):
        raise AdminError(f"a user named {username!r} exists")
    session.add(
        Admin(
            username=username,
            password_hash=hash_password(password),
            created_at=utcnow(),
            role=role,
        )
    )
    record(session, actor, "admin.create", username, f"role={role}")


def set_role(session: Session, username: str, role: str, actor: str) -> None:
    """Make a user an admin or a viewer; the last admin cannot stop being one."""
    if role not in ROLES:
        raise AdminError(f"the role must be one of {', '.join(ROLES)}, not {role!r}")
    user = session.scalar(select(Admin).where(Admin.username == username).with_for_update())
    if user is None:
        raise AdminError(f"no user named {username!r}")
    if user.role == "admin" and role != "admin":
        admins = session.scalar(select(func.count()).where(Admin.role == "admin")) or 0
        if admins <= 1:
            raise AdminError("the last admin cannot become a viewer: make another admin first")
    if user.role != role:
        user.role = role
        record(session, actor, "admin.role", username, f"role={role}")


def list_users(session: Session) -> list[UserInfo]:
    rows = session.execute(
        select(Admin.username, Admin.role, Admin.created_at).order_by(Admin.username)
    )
    return [UserInfo(str(u), str(r), c) for u, r, c in rows]


# admin API tokens -----------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenInfo:
    """What an admin may see of a token: never the token or its hash."""

    name: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    def live(self, now: datetime) -> bool:
        expired = self.expires_at is not None and as_utc(self.expires_at) <= now
        return self.revoked_at is None and not expired


def create_api_token(
    session: Session, name: str, actor: str, expires_days: int = DEFAULT_TOKEN_DAYS
) -> str:
    """A new token (shown once), valid for expires_days."""
    if not name or len(name) > 100 or any(ord(c) < 0x20 or ord(c) == 0x7F for c in name):
        raise AdminError("the token name must be 1 to 100 printable characters")
    if not 1 <= expires_days <= MAX_TOKEN_DAYS:
        raise AdminError(f"a token is valid for 1 to {MAX_TOKEN_DAYS} days")
    if session.scalar(select(ApiToken.id).where(ApiToken.name == name)):
        raise AdminError(f"a token named {name!r} exists")
    token = new_secret("osa_")
    now = utcnow()
    expires = now + timedelta(days=expires_days)
    session.add(
        ApiToken(name=name, token_hash=token_hash(token), created_at=now, expires_at=expires)
    )
    record(session, actor, "token.create", name, f"expires={expires.isoformat(timespec='seconds')}")
    return token


def list_api_tokens(session: Session) -> list[TokenInfo]:
    rows = session.scalars(select(ApiToken).order_by(ApiToken.name))
    return [
        TokenInfo(
            t.name,
            as_utc(t.created_at),
            as_utc(t.expires_at) if t.expires_at else None,
            as_utc(t.last_used_at) if t.last_used_at else None,
            as_utc(t.revoked_at) if t.revoked_at else None,
        )
        for t in rows
    ]


def revoke_api_token(session: Session, name: str, actor: str) -> None:
    entry = session.scalar(select(ApiToken).where(ApiToken.name == name))
    if entry is None:
        raise AdminError(f"no token named {name!r}")
    if entry.revoked_at is None:
        entry.revoked_at = utcnow()
        record(session, actor, "token.revoke", name, None)


def api_token_name(session: Session, token: str) -> str | None:
    """The name of a live token (not revoked, not expired); notes its use once a minute."""
    entry = session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(token)))
    now = utcnow()
    if entry is None or entry.revoked_at is not None:
        return None
    if entry.expires_at is not None and as_utc(entry.expires_at) <= now:
        return None
    if entry.last_used_at is None or now - as_utc(entry.last_used_at) >= LAST_USE_EVERY:
        entry.last_used_at = now
    return entry.name


# logins ---------------------------------------------------------------------------------------


def password_hash_of(session: Session, username: str) -> tuple[int, str] | None:
    """(admin id, argon2 hash) of a dashboard user, or None."""
    admin = session.scalar(select(Admin).where(Admin.username == username))
    return None if admin is None else (admin.id, admin.password_hash)


def open_session(session: Session, admin_id: int, hours: int) -> tuple[str, str]:
    """A new session id (the cookie) and its CSRF token."""
    session_id = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    session.add(
        WebSession(
            id_hash=token_hash(session_id),
            admin_id=admin_id,
            csrf_token=csrf,
            expires_at=utcnow() + timedelta(hours=hours),
        )
    )
    return session_id, csrf


def login_failures(session: Session, keys: list[str]) -> dict[str, tuple[int, datetime]]:
    """key -> (failures, last failure) for the keys that have failed."""
    rows = session.scalars(select(LoginFailures).where(LoginFailures.key.in_(keys)))
    return {r.key: (r.failures, as_utc(r.last_failure_at)) for r in rows}


def add_login_failure(session: Session, key: str, restart_before: datetime) -> None:
    """One more failure for key; the count starts again when the last one was before
    restart_before. Atomic across processes (an UPDATE, or an INSERT in a savepoint)."""
    now = utcnow()
    stale = session.execute(
        update(LoginFailures)
        .where(LoginFailures.key == key, LoginFailures.last_failure_at < restart_before)
        .values(failures=1, last_failure_at=now)
    )
    if getattr(stale, "rowcount", 0):
        return
    counted = session.execute(
        update(LoginFailures)
        .where(LoginFailures.key == key)
        .values(failures=LoginFailures.failures + 1, last_failure_at=now)
    )
    if getattr(counted, "rowcount", 0):
        return
    try:
        with session.begin_nested():
            session.add(LoginFailures(key=key, failures=1, last_failure_at=now))
    except IntegrityError:  # another worker inserted it first: count on its row
        session.execute(
            update(LoginFailures)
            .where(LoginFailures.key == key)
            .values(failures=LoginFailures.failures + 1, last_failure_at=now)
        )


def clear_login_failures(session: Session, key: str) -> None:
    entry = session.get(LoginFailures, key)
    if entry is not None:
        session.delete(entry)


def session_user(session: Session, session_id: str) -> tuple[str, str, str] | None:
    """(username, csrf token, role) of a live session."""
    web = session.get(WebSession, token_hash(session_id))
    if web is None or as_utc(web.expires_at) < utcnow():
        return None
    admin = session.get(Admin, web.admin_id)
    return None if admin is None else (admin.username, web.csrf_token, admin.role)


def logout(session: Session, session_id: str) -> None:
    web = session.get(WebSession, token_hash(session_id))
    if web is not None:
        session.delete(web)
