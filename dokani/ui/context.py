"""Session context: who is signed in, which business the console works on, in which role.

Who you are comes only from a verified sign-in session: the HttpOnly cookie set by ``/sign-in``
(``dokani.server``), checked against Postgres on every run, so a revoked or expired session ends at once.
Nothing in the URL or in a widget can choose the user. The business switcher lists only the signed-in
person's own memberships.
"""
from __future__ import annotations

from urllib.parse import quote
from uuid import UUID

import streamlit as st

from db.uow import Actor
from dokani.accounts import members as accounts
from dokani.accounts import sessions
from dokani.ui.accounts import single_sign_on

# Where a session token may come from besides the cookie: tests (AppTest has no cookies) put a token they
# created through the real sign-in service here. It is verified exactly like the cookie's.
TOKEN_KEY = "dokani_session_token"
BUSINESS_KEY = "dokani_business_id"
PENDING_BUSINESS_KEY = "dokani_pending_business_id"
SIGNED_IN_KEY = "dokani_signed_in_user"


def _session_token() -> str | None:
    try:
        token = st.context.cookies.get(sessions.COOKIE)
    except Exception:  # no request context (bare script runs)
        token = None
    if not isinstance(token, str) or not token:
        token = st.session_state.get(TOKEN_KEY)
    return token if isinstance(token, str) else None


def has_session_cookie() -> bool:
    """True when the browser holds the console's session cookie (so the console's own routes can check it)."""
    try:
        return bool(st.context.cookies.get(sessions.COOKIE))
    except Exception:
        return False


def _current_path() -> str:
    try:
        url = st.context.url or ""
    except Exception:
        url = ""
    path = "/" + url.split("://", 1)[-1].split("/", 1)[-1] if "://" in url else "/"
    return path


def _show_sign_in() -> None:
    from dokani.accounts.sign_in import NO_MEMBERS, anyone_can_sign_in

    if not anyone_can_sign_in():
        st.sidebar.info(NO_MEMBERS)
    st.title("Sign in to the Dokani console")
    st.write("Your session has ended or you have not signed in yet.")
    st.html(f'<a href="/sign-in?next={quote(_current_path())}" style="display:inline-block;padding:.4rem 1rem;'
            'border-radius:.5rem;background:#0F766E;color:#fff;text-decoration:none">Sign in</a>')


def signed_in_actor() -> Actor | None:
    """The signed-in person acting for the chosen business, rendered in the sidebar; None when signed out."""
    user = sessions.verify_session(_session_token()) or single_sign_on.signed_in_user()
    if user is None:
        single_sign_on.start_if_asked()
        st.session_state.pop(SIGNED_IN_KEY, None)
        if not single_sign_on.show_refusal():
            _show_sign_in()
        return None
    st.session_state[SIGNED_IN_KEY] = str(user.user_id)
    options = accounts.memberships(user.user_id, user.email)
    if not options:
        st.warning("Your account does not belong to any business any more. Ask an owner to invite you again.")
        _sign_out_button()
        return None
    by_business = {str(m.business_id): m for m in options}
    pending = st.session_state.pop(PENDING_BUSINESS_KEY, None)  # set by switch_business (deep links)
    if pending in by_business:
        st.session_state[BUSINESS_KEY] = pending  # before the widget exists, so this run uses it
    if st.session_state.get(BUSINESS_KEY) not in by_business:
        st.session_state[BUSINESS_KEY] = next(iter(by_business))
    if len(by_business) > 1:
        st.sidebar.selectbox(
            "Business", list(by_business), key=BUSINESS_KEY,
            format_func=lambda b: f"{by_business[b].business_name} · {by_business[b].role}",
        )
    membership = by_business[st.session_state[BUSINESS_KEY]]
    name = membership.display_name or user.email or "you"
    st.sidebar.caption("Signed in as")
    st.sidebar.text(f"{name} · {membership.role} · {membership.business_name}")
    with st.sidebar:
        _sign_out_button()
    return accounts.actor_for(user.user_id, membership, user.email)


_SIGN_OUT_LINK = (
    '<a href="/sign-out" style="display:inline-block;padding:.3rem .8rem;border:1px solid rgba(49,51,63,.2);'
    'border-radius:.5rem;color:inherit;text-decoration:none">Sign out</a>'
)


def _sign_out_button() -> None:
    # A plain link (fixed text, nothing from outside): st.link_button and markdown links open a new tab,
    # and signing out must happen in this one.
    st.html(_SIGN_OUT_LINK)


def switch_business(business_id: UUID) -> bool:
    """Switch to `business_id` if the signed-in user belongs to it (deep links); True when switched."""
    user_id = st.session_state.get(SIGNED_IN_KEY)
    if not user_id:
        return False
    allowed = {str(m.business_id) for m in accounts.memberships(UUID(user_id))}
    if str(business_id) in allowed:
        # The business selectbox already exists in this run, so its key cannot change now: the next run
        # applies it before the widget is drawn. Callers st.rerun() after a True.
        st.session_state[PENDING_BUSINESS_KEY] = str(business_id)
        return True
    return False


SHELL_KEY = "dokani_shell_ran"


def mark_shell_ran() -> None:
    st.session_state[SHELL_KEY] = True


def _run_through_shell() -> None:
    """A safety net: a page file run without ``app.py`` (sign-in, business, navigation) reruns through it.

    The pages live in ``views/`` so Streamlit never serves them as a ``pages/`` folder app of its own; should a
    page still run alone, switch the process to ``st.navigation`` mode and rerun.
    """
    from streamlit.runtime.pages_manager import PagesManager

    PagesManager.uses_pages_directory = False
    st.rerun()


def current_actor() -> Actor:
    """The acting user, as set up by ``app.py``; pages call this."""
    if SHELL_KEY not in st.session_state:
        _run_through_shell()
    actor = st.session_state.get("dokani_actor")
    if actor is None:
        st.stop()
    return actor
