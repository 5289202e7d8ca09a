"""Sign-in sessions: a random token in an HttpOnly cookie, only its SHA-256 stored, revocable.

A session ends when it is revoked (sign out, password reset, member removed), when it has not been used
for ``IDLE`` or when it is older than ``ABSOLUTE``, whichever comes first.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from uuid import UUID

from pydantic import BaseModel
from sqlalchemy import text

from db.uow import sign_in_transaction

COOKIE = "dokani_session"
IDLE = timedelta(hours=12)
ABSOLUTE = timedelta(days=7)
TOUCH_EVERY = timedelta(minutes=1)  # last_seen_at is written at most this often


class SignedInUser(BaseModel):
    user_id: UUID
    email: str | None
    expires_at: datetime


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def create_session(user_id: UUID, user_agent: str | None = None) -> str:
    """Open a session for `user_id` (whose password was just checked) and return its token."""
    token = new_token()
    with sign_in_transaction() as conn:
        conn.execute(
            text("INSERT INTO dokani.sign_in_sessions (token_hash, user_id, expires_at, user_agent) "
                 "VALUES (:h, :u, now() + :absolute, :ua)"),
            {"h": token_hash(token), "u": user_id, "absolute": ABSOLUTE, "ua": (user_agent or "")[:300]},
        )
    return token


def verify_session(token: str | None) -> SignedInUser | None:
    """The user of a live session, or None (unknown, revoked, idle too long or expired)."""
    if not isinstance(token, str) or not token or len(token) > 200:
        return None
    with sign_in_transaction() as conn:
        row = conn.execute(
            text(
                "UPDATE dokani.sign_in_sessions s SET last_seen_at = CASE "
                "  WHEN s.last_seen_at < now() - :touch THEN now() ELSE s.last_seen_at END "
                "FROM auth.users u "
                "WHERE s.token_hash = :h AND u.id = s.user_id AND s.revoked_at IS NULL "
                "  AND s.expires_at > now() AND s.last_seen_at > now() - :idle "
                "RETURNING s.user_id, u.email, s.expires_at"
            ),
            {"h": token_hash(token), "touch": TOUCH_EVERY, "idle": IDLE},
        ).first()
    return SignedInUser(user_id=row[0], email=row[1], expires_at=row[2]) if row else None


def revoke_session(token: str | None) -> bool:
    if not token:
        return False
    with sign_in_transaction() as conn:
        n = conn.execute(
            text("UPDATE dokani.sign_in_sessions SET revoked_at = now() WHERE token_hash = :h AND revoked_at IS NULL"),
            {"h": token_hash(token)},
        ).rowcount
    return n > 0


def revoke_all_sessions(user_id: UUID) -> int:
    """End every session of a user (password changed, removed from a business)."""
    with sign_in_transaction() as conn:
        return conn.execute(
            text("UPDATE dokani.sign_in_sessions SET revoked_at = now() WHERE user_id = :u AND revoked_at IS NULL"),
            {"u": user_id},
        ).rowcount
