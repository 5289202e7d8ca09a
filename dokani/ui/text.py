"""Customer-supplied text (reasons, chat messages, transcripts, notes) is shown as plain text, always.

Two helpers, used for every string that did not come from the code:
- ``plain(value)`` renders it with ``st.text`` (never markdown);
- ``md(value)`` escapes it for anything Streamlit renders as markdown (messages, captions, labels, metrics,
  expanders, toasts, tabs, chart titles): CommonMark/GFM syntax (emphasis, links, html, headings, lists,
  tables, code), ``$..$`` LaTeX, and Streamlit's own directives (``:red[..]``, ``:material/..:``, emoji
  shortcodes ``:smile:``), which Streamlit expands on the text itself, so a backslash alone does not stop them.
Both show control characters and bidirectional overrides (U+202E ...) as visible ``\\u202e`` escapes instead of
applying them.
"""
from __future__ import annotations

import re

import streamlit as st

# Every ASCII punctuation character that markdown, GFM or Streamlit give a meaning to (backslash-escapable).
_MD = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=&^\"'@%/])")
# Streamlit's frontend rewrites some patterns in the text itself, after markdown escapes are undone: directives
# (:red[), icons (:material/), shortcodes (:smile:), autolinks (https://, www., a@b.example) and typography
# (-- to a dash, ... to an ellipsis). A word joiner (invisible, not a space) is put inside each so none matches.
_REWRITTEN = re.compile(r"(?<=:)(?=[\w+/-])|(?<=-)(?=-)|(?<=\.)(?=\.)|(?<=@)|(?i:(?<=www)(?=\.))")
_WORD_JOINER = "\u2060"
_LEADING_SPACE = re.compile(r"(?m)^[ \t]+")  # four leading spaces would make a code block
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f"  # C0 (but tab and newline) and C1 controls
    "\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]"  # bidi marks/overrides, zero widths
)


def visible(value: object) -> str:
    """The text with control and bidi characters written out (``\\u202e``), so they are seen, not applied."""
    text = str(value)
    return _INVISIBLE.sub(lambda m: f"\\u{ord(m.group()):04x}", text) if _INVISIBLE.search(text) else text


def plain(value: object, *, empty: str = "—") -> None:
    """Render untrusted text verbatim: no markdown, no HTML, no links, no invisible controls."""
    st.text(visible(value) if value not in (None, "") else empty)


def md(text: object) -> str:
    """Escape typed text that goes into anything Streamlit renders as markdown, so it shows verbatim.

    ``md`` output is for display only (it carries backslashes and word joiners); never store or compare it.
    """
    escaped = _MD.sub(r"\\\1", _REWRITTEN.sub(_WORD_JOINER, visible(text))).replace("\r", "")
    return _LEADING_SPACE.sub(lambda m: "\u00a0" * len(m.group().expandtabs(4)), escaped)

