"""Customer-supplied text (reasons, chat messages, transcripts, notes) is shown as plain text, always."""
from __future__ import annotations

import re

import streamlit as st

_MD = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$])")


def plain(value: object, *, empty: str = "—") -> None:
    """Render untrusted text verbatim: no markdown, no HTML, no links."""
    st.text(str(value) if value not in (None, "") else empty)


def md(text: object) -> str:
    """Escape markdown (and HTML, links, ``:color[]``/``:icon:`` directives) in typed text that goes into a
    message rendered as markdown (st.error, st.caption, labels, ...), so it shows verbatim."""
    return _MD.sub(r"\\\1", str(text))
