"""Dashboard users, admin API tokens and login sessions."""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from server_stub.security import hash_password, new_secret, token_hash, verify_password
from server_stub.storage.audit import record
from server_stub.storage.clock import as_utc, utcnow
from server_stub.storage.tables import Admin, ApiToken, WebSession


class AdminError(ValueError):
    """An admin operation that cannot be done."""


def create_admin(session: Session, username: str, password: str, actor: str) -> None:
    if len(password) < 12:
        raise AdminError("the password must have at least 12 characters")
    if session.scalar(select(Admin.id).where(Admin.username == username)):
        raise AdminError(f"an admin named {username!r} exists")
    session.add(
        Admin(username=username, password_hash=hash_password(password), created_at=utcnow())
    )
    record(session, actor, "admin.create", username, None)


def create_api_token(session: Session, name: str, actor: str) -> str:
    if session.scalar(select(ApiToken.id).where(ApiToken.name == name)):
        raise AdminError(f"a token named {name!r} exists")
    token = new_secret("osa_")
    session.add(ApiToken(name=name, token_hash=token_hash(token), created_at=utcnow()))
    record(session, actor, "token.create", name, None)
    return token


def api_token_name(session: Session, token: str) -> str | None:
    entry = session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(token)))
    return None if entry is None or entry.revoked_at is not None else entry.name


def login(session: Session, username: str, password: str, hours: int) -> tuple[str, str] | None:
    """Check a password; on success a new session id (cookie) and its CSRF token."""
    admin = session.scalar(select(Admin).where(Admin.username == username))
    if admin is None or not verify_password(admin.password_hash, password):
        record(session, username[:100] or "?", "login.failed", None, None)
        return None
    session_id = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    session.add(
        WebSession(
            id_hash=token_hash(session_id),
            admin_id=admin.id,
            csrf_token=csrf,
            expires_at=utcnow() + timedelta(hours=hours),
        )
    )
    record(session, username, "login", None, None)
    return session_id, csrf


def session_user(session: Session, session_id: str) -> tuple[str, str] | None:
    """(username, csrf token) of a live session."""
    web = session.get(WebSession, token_hash(session_id))
    if web is None or as_utc(web.expires_at) < utcnow():
        return None
    admin = session.get(Admin, web.admin_id)
    return None if admin is None else (admin.username, web.csrf_token)


def logout(session: Session, session_id: str) -> None:
    web = session.get(WebSession, token_hash(session_id))
    if web is not None:
        session.delete(web)
