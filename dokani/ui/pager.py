"""Keyset pagination controls: a stack of cursors in session state, Previous / Next buttons."""
from __future__ import annotations

from typing import Any

import streamlit as st


def current_cursor(key: str) -> Any:
    stack = st.session_state.setdefault(f"{key}__cursors", [None])
    return stack[-1]


def reset(key: str) -> None:
    st.session_state[f"{key}__cursors"] = [None]


def page_number(key: str) -> int:
    return len(st.session_state.get(f"{key}__cursors", [None]))


def controls(key: str, next_cursor: Any) -> None:
    stack = st.session_state.setdefault(f"{key}__cursors", [None])
    left, mid, right = st.columns([1, 2, 1])
    if left.button("← Previous", key=f"{key}__prev", disabled=len(stack) <= 1):
        stack.pop()
        st.rerun()
    mid.caption(f"Page {len(stack)}")
    if right.button("Next →", key=f"{key}__next", disabled=next_cursor is None):
        stack.append(next_cursor)
        st.rerun()
