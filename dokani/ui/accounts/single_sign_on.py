"""Single sign-on in the running page: st.login when asked for, and the member its verified email belongs to."""
from __future__ import annotations

import streamlit as st

from dokani.accounts.sessions import SignedInUser
from dokani.accounts.single_sign_on import NOT_A_MEMBER, UNVERIFIED, member_for_email
from dokani.ui.text import md

SSO_QUERY = "sso"
_REFUSED = "dokani_sso_refused"


def configured() -> bool:
    """True when an ``[auth]`` section is configured (st.login can run)."""
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all
        return False


def start_if_asked() -> None:
    """The sign-in page's single sign-on link opens the console with ``?sso=1``: hand over to the provider."""
    if configured() and st.query_params.get(SSO_QUERY) == "1":
        st.login()
        st.stop()


def signed_in_user() -> SignedInUser | None:
    """The member the provider vouched for; None when no one signed in through it or it is refused (then
    ``refused()`` shows why)."""
    if not configured():
        return None
    try:
        logged_in = bool(st.user.is_logged_in)
    except Exception:
        return None
    if not logged_in:
        return None
    email = str(st.user.get("email") or "")
    if st.user.get("email_verified") is False:
        st.session_state[_REFUSED] = UNVERIFIED.format(email=md(email))
        return None
    user = member_for_email(email)
    if user is None:
        st.session_state[_REFUSED] = NOT_A_MEMBER.format(email=md(email) if email else "This account")
    return user


def show_refusal() -> bool:
    """Say why the provider's identity cannot open the console; False when there is nothing to say."""
    message = st.session_state.pop(_REFUSED, None)
    if not message:
        return False
    st.title("Sign in to the Dokani console")
    st.error(message, icon=":material/block:")  # the email in it is escaped (md)
    if st.button("Sign out of single sign-on"):
        st.logout()
    return True
