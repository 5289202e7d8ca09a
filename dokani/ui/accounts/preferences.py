"""The signed-in person's settings in the running session: read once per sign-in, applied on every page."""
from __future__ import annotations

import streamlit as st

from db.uow import Actor, unit_of_work
from dokani.accounts.preferences import Preferences, load_preferences

PREFS_KEY = "dokani_preferences"
_FOR_KEY = "dokani_preferences_for"
LANDED_KEY = "dokani_landed"


def current() -> Preferences:
    """The settings in force for this session (the defaults before sign-in or outside the app)."""
    try:
        prefs = st.session_state.get(PREFS_KEY)
    except Exception:  # no Streamlit session (plain scripts, unit tests)
        prefs = None
    return prefs if isinstance(prefs, Preferences) else Preferences()


def load_for(actor: Actor) -> Preferences:
    """Read the person's settings once per signed-in user; `remember` replaces them after a save."""
    if st.session_state.get(_FOR_KEY) != str(actor.user_id) or PREFS_KEY not in st.session_state:
        with unit_of_work(actor) as uow:
            remember(actor, load_preferences(uow))
    return current()


def remember(actor: Actor, prefs: Preferences) -> None:
    st.session_state[PREFS_KEY] = prefs
    st.session_state[_FOR_KEY] = str(actor.user_id)


def land_on_preferred_page(current_page, home, pages_by_slug: dict) -> None:
    """On a session's first page run at the console's root, open the person's landing page instead.

    Only the bare root: a deep link (``/returns?...``) opens what it names.
    """
    if st.session_state.get(LANDED_KEY):
        return
    st.session_state[LANDED_KEY] = True
    wanted = pages_by_slug.get(current().landing_page)
    if current_page is home and wanted is not None and wanted is not home:
        st.switch_page(wanted)
