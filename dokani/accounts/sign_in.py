"""Email and password sign-in, with a lockout after repeated failures.

After ``MAX_FAILURES`` failed attempts for one email within ``LOCKOUT``, sign-in for that email is refused
until the window has passed, and every business the email belongs to gets a ``security_events`` row. The
refusal says the same for an email with no account, and a wrong email costs one bcrypt check like a
wrong password, so neither the answer nor its timing tells whether an account exists.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from pydantic import BaseModel
from sqlalchemy import text

from db.uow import sign_in_transaction
from dokani.accounts.passwords import password_matches
from dokani.accounts.sessions import create_session
from dokani.errors import DokaniError

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
WRONG = "That email and password do not match an account with access to a business."


class SignInRefused(DokaniError):
    """Wrong email or password, or too many attempts; the message says which (never whether the email exists)."""


class SignedIn(BaseModel):
    user_id: UUID
    token: str


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def locked_until(conn, email: str) -> datetime | None:
    """When the lockout of `email` ends, if it is locked now."""
    rows = conn.execute(
        text("SELECT failed_at FROM dokani.sign_in_failures WHERE email = :e AND failed_at > now() - :w "
             "ORDER BY failed_at DESC LIMIT :n"),
        {"e": email, "w": LOCKOUT, "n": MAX_FAILURES},
    ).scalars().all()
    if len(rows) < MAX_FAILURES:
        return None
    return rows[-1] + LOCKOUT  # fifteen minutes after the oldest of the last five failures


def _locked_message(until: datetime) -> str:
    return (f"Too many failed sign-in attempts for this email: sign-in is locked until "
            f"{until:%H:%M} UTC ({MAX_FAILURES} failures within {int(LOCKOUT.total_seconds() // 60)} minutes).")


def sign_in(email: str, password: str, user_agent: str | None = None) -> SignedIn:
    """Check the credentials and open a session; raise SignInRefused with a message a person can act on."""
    who = normalise_email(email)
    if not who or not password or "\x00" in who or len(who) > 320:
        raise SignInRefused("Enter your email and password.")
    with sign_in_transaction() as conn:
        until = locked_until(conn, who)
        if until is not None:
            raise SignInRefused(_locked_message(until))
        row = conn.execute(
            text("SELECT u.id, u.encrypted_password, "
                 "EXISTS (SELECT 1 FROM public.business_members m WHERE m.user_id = u.id) AS member "
                 "FROM auth.users u WHERE lower(u.email) = :e ORDER BY u.created_at LIMIT 1"),
            {"e": who},
        ).first()
        ok = password_matches(password, row[1] if row else None)
        if ok and row[2]:
            conn.execute(text("DELETE FROM dokani.sign_in_failures WHERE email = :e"), {"e": who})
            user_id = row[0]
        else:
            conn.execute(text("INSERT INTO dokani.sign_in_failures (email) VALUES (:e)"), {"e": who})
            until = locked_until(conn, who)
            if until is not None:
                conn.execute(text("SELECT dokani.record_sign_in_lockout(:e, :n, :u)"),
                             {"e": who, "n": MAX_FAILURES, "u": until})
            user_id = None
    if user_id is None:
        # committed above: the failure counts even though sign-in is refused
        raise SignInRefused(WRONG)
    return SignedIn(user_id=user_id, token=create_session(user_id, user_agent))


def anyone_can_sign_in() -> bool:
    """False on a database with no members yet (an adopted one): its first owner is added from the CLI."""
    with sign_in_transaction() as conn:
        return conn.execute(text("SELECT EXISTS (SELECT 1 FROM public.business_members)")).scalar()


NO_MEMBERS = ("No one can sign in yet: this database has no members. Add the first owner with "
              "`python -m dokani users add --business ID --email E --role owner`.")
