"""One-time, expiring set-password links: invitations and password resets.

No mail server is assumed: the link is shown to whoever created it (an owner or admin on the Team page,
or an operator on the command line) to pass on. Only the SHA-256 of its token is stored; using it sets
the password, ends every other session of that person and cannot be repeated.
"""
from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from sqlalchemy import text

from db.uow import sign_in_transaction
from dokani.accounts.passwords import hash_password
from dokani.accounts.sessions import new_token, token_hash
from dokani.errors import Invalid

PATH = "/set-password"
LIFETIME = {"invite": timedelta(days=7), "reset": timedelta(hours=24)}


def create_link(user_id: UUID, purpose: str, created_by: UUID | None = None) -> str:
    """A new link's path with its token (``/set-password?token=...``); earlier unused links of the user end."""
    token = new_token()
    with sign_in_transaction() as conn:
        conn.execute(text("UPDATE dokani.password_links SET used_at = now() WHERE user_id = :u AND used_at IS NULL"),
                     {"u": user_id})
        conn.execute(
            text("INSERT INTO dokani.password_links (token_hash, user_id, purpose, created_by, expires_at) "
                 "VALUES (:h, :u, :p, :by, now() + :life)"),
            {"h": token_hash(token), "u": user_id, "p": purpose, "by": created_by, "life": LIFETIME[purpose]},
        )
    return f"{PATH}?token={token}"


def link_email(token: str | None) -> str | None:
    """The email a live link is for (shown on the form), or None when the link is unknown, used or expired."""
    if not token or len(token) > 200:
        return None
    with sign_in_transaction() as conn:
        return conn.execute(
            text("SELECT u.email FROM dokani.password_links l JOIN auth.users u ON u.id = l.user_id "
                 "WHERE l.token_hash = :h AND l.used_at IS NULL AND l.expires_at > now()"),
            {"h": token_hash(token)},
        ).scalar()


def use_link(token: str, password: str, repeated: str) -> str:
    """Set the password through a live link; returns the account's email. Raises Invalid with the reason."""
    if password != repeated:
        raise Invalid("The two passwords differ.")
    encrypted = hash_password(password)
    with sign_in_transaction() as conn:
        row = conn.execute(
            text("UPDATE dokani.password_links SET used_at = now() "
                 "WHERE token_hash = :h AND used_at IS NULL AND expires_at > now() RETURNING user_id"),
            {"h": token_hash(token or "")},
        ).first()
        if row is None:
            raise Invalid("This link has expired or was already used. Ask an owner or admin for a new one.")
        conn.execute(text("UPDATE auth.users SET encrypted_password = :p WHERE id = :u"), {"p": encrypted, "u": row[0]})
        conn.execute(text("UPDATE dokani.sign_in_sessions SET revoked_at = now() WHERE user_id = :u AND revoked_at IS NULL"),
                     {"u": row[0]})
        email = conn.execute(text("SELECT email FROM auth.users WHERE id = :u"), {"u": row[0]}).scalar()
    return email
