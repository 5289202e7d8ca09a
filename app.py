"""Dokani console: page config, sign-in, business context, navigation."""
from __future__ import annotations

import streamlit as st

from dokani.ui.accounts import preferences
from dokani.ui.bootstrap import ensure_demo_database
from dokani.ui.context import mark_shell_ran, signed_in_actor
from dokani.ui.errors import page_guard

st.set_page_config(page_title="Dokani console", page_icon=":material/assignment_return:", layout="wide")

# The pages live in views/, not pages/: Streamlit serves a pages/ folder as a navigation of its own (raw file
# names, no sign-in) until st.navigation has run once, so a deep link as a server's first request showed it.
OVERVIEW = st.Page("views/overview.py", title="Overview", icon=":material/monitoring:", url_path="overview")


def _home() -> None:
    """The app's root: Streamlit serves its default page at `/` only, so the root is a hidden page that opens
    the overview at `/overview`, which then works as a deep link like every other page (issue 10)."""
    st.switch_page(OVERVIEW, query_params=st.query_params.to_dict())


PAGES = [
    st.Page(_home, title="Overview", icon=":material/monitoring:", url_path="home", default=True, visibility="hidden"),
    OVERVIEW,
    st.Page("views/returns.py", title="Returns", icon=":material/assignment_return:", url_path="returns"),
    st.Page("views/policies.py", title="Policies", icon=":material/policy:", url_path="policies"),
    st.Page("views/chat.py", title="Chat test lab", icon=":material/forum:", url_path="chat"),
    st.Page("views/calls.py", title="Calls", icon=":material/call:", url_path="calls"),
    st.Page("views/risk.py", title="Risk", icon=":material/shield:", url_path="risk"),
    st.Page("views/import.py", title="Import", icon=":material/upload_file:", url_path="import"),
    st.Page("views/team.py", title="Team", icon=":material/group:", url_path="team"),
    st.Page("views/settings.py", title="Your settings", icon=":material/tune:", url_path="settings"),
]
# "overview" lands on the root page, which opens /overview keeping the query string (a landing switch would drop it).
BY_SLUG = {**{page.url_path: page for page in PAGES if page.url_path}, "overview": PAGES[0]}

st.session_state["dokani_actor"] = None
with page_guard():
    ensure_demo_database()
    # Verified against Postgres on every run: a revoked or expired session ends here, at once.
    st.session_state["dokani_actor"] = signed_in_actor()
    if st.session_state["dokani_actor"] is not None:
        preferences.load_for(st.session_state["dokani_actor"])
signed_in = st.session_state["dokani_actor"] is not None
navigation = st.navigation(PAGES, position="sidebar" if signed_in else "hidden")
mark_shell_ran()
if signed_in:
    with st.sidebar:
        st.caption("Dokani · AI returns and refunds")
    with page_guard():
        preferences.land_on_preferred_page(navigation, PAGES[0], BY_SLUG)
        navigation.run()
