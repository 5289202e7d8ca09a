"""Keyed selectboxes whose option labels change between runs keep their selection.

The browser answers a selectbox with the *label* of the chosen option, and keeps the label the server last
sent it. When the selected option is relabelled (a session's message count, a renamed persona), the label the
browser holds still resolves once, against the previous run's options, and then matches nothing: Streamlit
silently falls back to the first option. ``hold_selection`` re-states the value before the widget is drawn,
which makes Streamlit send the current label along on every run, so the browser never holds a stale one.
"""
from __future__ import annotations

import streamlit as st


def hold_selection(key: str) -> None:
    """Call right before ``st.selectbox(..., key=key)`` (options with a ``format_func``): keep its selection."""
    if key in st.session_state:
        st.session_state[key] = st.session_state[key]
