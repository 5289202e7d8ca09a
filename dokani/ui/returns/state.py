"""What the returns page keeps in the session between runs: the message for the next run (a flash), the
version of each return the reviewer first saw, and the queue's snapshot with its generation.
"""
from __future__ import annotations

import streamlit as st

from dokani.ui.text import visible

FLASH_KEY = "returns_flash"
SEEN_PREFIX = "returns_seen_version:"  # + public id: the version of the return the reviewer first saw
QUEUE_SNAPSHOT = "returns_queue_snapshot"
QUEUE_GENERATION = "returns_queue_generation"


def flash(kind: str, message: str, details: list[str] | None = None) -> None:
    """A message for the next run; `details` may quote people's notes and are shown as plain text."""
    st.session_state[FLASH_KEY] = (kind, message, details or [])


def show_flash() -> None:
    kind, message, details = st.session_state.pop(FLASH_KEY, (None, None, []))
    if kind == "success":
        st.success(message, icon=":material/check_circle:")
    elif kind == "warning":
        st.warning(message, icon=":material/warning:")
    elif kind:
        st.info(message)
    if details:
        st.text(visible("\n".join(details)))


def refresh_queue() -> None:
    """Drop the queue's snapshot and its row selection; the next run reads the queue again."""
    st.session_state.pop(QUEUE_SNAPSHOT, None)
    st.session_state[QUEUE_GENERATION] = st.session_state.get(QUEUE_GENERATION, 0) + 1

