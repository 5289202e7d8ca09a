"""Session context: who is signed in, which business the console works on, in which role.

Until real sign-in exists the sidebar offers a picker of the people who belong to a business
(read through a narrow SECURITY DEFINER function, not as an owner) and a business switcher.
"""
from __future__ import annotations

from uuid import UUID

import streamlit as st

from db.uow import Actor
from dokani.accounts import members as accounts

USER_KEY = "dokani_user_id"
BUSINESS_KEY = "dokani_business_id"
PENDING_BUSINESS_KEY = "dokani_pending_business_id"


def _query_default(key: str) -> str | None:
    value = st.query_params.get(key)
    return value or None


def sidebar_actor() -> Actor | None:
    """Render the sign-in picker and business switcher; return the acting user, or None."""
    people = accounts.sign_in_directory()
    if not people:
        st.sidebar.info("No one can sign in yet: the database has no businesses. Run `python -m dokani seed`.")
        return None
    by_id = {str(p.user_id): p for p in people}
    default_user = st.session_state.get(USER_KEY) or _query_default("as")
    ids = list(by_id)
    user_id = st.sidebar.selectbox(
        "Signed in as",
        ids,
        index=ids.index(default_user) if default_user in by_id else 0,
        format_func=lambda i: f"{by_id[i].display_name or by_id[i].email} · {by_id[i].email}",
        key=USER_KEY,
    )
    person = by_id[user_id]
    options = accounts.memberships(UUID(user_id), person.email)
    if not options:
        st.sidebar.warning("This user belongs to no business.")
        return None
    by_business = {str(m.business_id): m for m in options}
    pending = st.session_state.pop(PENDING_BUSINESS_KEY, None)  # set by switch_business (deep links)
    if pending in by_business:
        st.session_state[BUSINESS_KEY] = pending  # before the widget exists, so this run uses it
    wanted = st.session_state.get(BUSINESS_KEY)
    if wanted not in by_business:
        wanted = next(iter(by_business))
        st.session_state[BUSINESS_KEY] = wanted
    business_id = st.sidebar.selectbox(
        "Business",
        list(by_business),
        format_func=lambda b: f"{by_business[b].business_name} · {by_business[b].role}",
        key=BUSINESS_KEY,
    )
    return accounts.actor_for(UUID(user_id), by_business[business_id], person.email)


def switch_business(business_id: UUID) -> bool:
    """Switch to `business_id` if the signed-in user belongs to it (deep links); True when switched."""
    user_id = st.session_state.get(USER_KEY)
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
    """A deep link opened as the first page of a server can run the page file alone.

    Streamlit treats a ``pages/`` folder next to the entry point as a v1 multipage app until
    ``st.navigation`` has run once in the server process; a first request for ``/returns?...``
    would then skip ``app.py`` (sign-in, business, navigation). Switch the process to
    ``st.navigation`` mode and rerun, so ``app.py`` runs and resolves the same page.
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
        st.info("Choose who you are signed in as in the sidebar.")
        st.stop()
    return actor
