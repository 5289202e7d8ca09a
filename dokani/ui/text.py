"""Customer-supplied text (reasons, chat messages, transcripts, notes) is shown as plain text, always."""
from __future__ import annotations

import streamlit as st


def plain(value: object, *, empty: str = "—") -> None:
    """Render untrusted text verbatim: no markdown, no HTML, no links."""
    st.text(str(value) if value not in (None, "") else empty)
