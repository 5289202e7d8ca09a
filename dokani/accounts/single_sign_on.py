"""Single sign-on: an identity provider vouches for an email, the console finds the member it belongs to.

Streamlit's ``st.login`` (OpenID Connect through Authlib) runs the provider round trip and keeps the verified
identity in its own signed cookie; it is on when ``.streamlit/secrets.toml`` (or ``DOKANI_SECRETS_FILE``) has an
``[auth]`` section. Here the email it vouches for is matched to an existing account that belongs to a business:
no account is created, and an email that matches no member is refused.
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import text

from db.uow import sign_in_transaction
from dokani.accounts.sessions import ABSOLUTE, SignedInUser
from dokani.accounts.sign_in import normalise_email

NOT_A_MEMBER = ("{email} signed in through single sign-on, but no business here has that email as a member. "
                "Ask an owner of your business to invite this email on the Team page.")
UNVERIFIED = "Your identity provider has not verified the email {email}, so it cannot open the console."


def member_for_email(email: str | None) -> SignedInUser | None:
    """The account with this email that belongs to at least one business; None otherwise."""
    who = normalise_email(email or "")
    if not who or "\x00" in who or len(who) > 320:
        return None
    with sign_in_transaction() as conn:
        row = conn.execute(
            text("SELECT u.id, u.email FROM auth.users u "
                 "WHERE lower(u.email) = :e AND EXISTS (SELECT 1 FROM public.business_members m WHERE m.user_id = u.id) "
                 "ORDER BY u.created_at LIMIT 1"),
            {"e": who},
        ).first()
    if row is None:
        return None
    # The provider's cookie, not ours, bounds this session; the figure only fills the model.
    return SignedInUser(user_id=row[0], email=row[1], expires_at=datetime.now(timezone.utc) + ABSOLUTE)
