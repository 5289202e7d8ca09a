"""Hostile inputs shared by the property tests of issue 12: what a malicious or careless user types or uploads."""
from __future__ import annotations

from hypothesis import strategies as st

HOSTILE = [
    "", " ", "\x00", "a\x00b", "\u202egnp.exe", "\u200b", "\ud800", "x" * 5000,
    "**bold** _it_ `code`", "# heading", "- item", "1. item", "| a | b |\n|---|---|", "> quote", "    indented code",
    "[link](https://evil.example)", "![img](https://evil.example/p.png)", "<b>html</b>", "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>", ":red[red text]", ":material/home:", ":smile:", ":streamlit:", "$x^2$",
    "$$\\int$$", "~~strike~~", "https://evil.example", "www.evil.example", "a\nb\n\nc", "{name}", "{0}", "%s",
    "'; DROP TABLE return_requests; --", "\\", "NaN", "nan", "inf", "-inf", "Infinity", "1e400", "1e999", "-1",
    "9" * 30, "-" + "9" * 30, "2147483648", "9223372036854775808", "0001-01-01T00:00:00+05:00", "9999-12-31",
    "9999-12-31T23:59:59-05:00", "2999-01-01", "0000-00-00", "2026-02-30", "\ufeffBOM", "é" * 70,
]

hostile_text = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=30))


def shown(escaped: str) -> str:
    """What a reader sees of ``md(...)`` output: backslash escapes and word joiners undone."""
    import re

    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", escaped).replace("\u2060", "").replace("\u00a0", " ")
