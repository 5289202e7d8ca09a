"""The reporting-period picker used by the overview, calls and risk pages."""
from __future__ import annotations

import streamlit as st

from dokani.analytics.kpis import Period

CHOICES = {"Last 7 days": 7, "Last 30 days": 30, "Last 90 days": 90, "Last 12 months": 365}


def period_label(period: Period) -> str | None:
    """The picker's label of a period of that length (for links that carry it as ``?period=``)."""
    days = (period.end - period.start).days
    return next((label for label, n in CHOICES.items() if n == days), None)


def period_picker(key: str, default: str = "Last 90 days", whole_days: bool = False) -> Period:
    """`whole_days`: calendar days up to today (the overview), so the queue's date filter shows the same rows."""
    if st.query_params.get("period") in CHOICES and key not in st.session_state:  # a link from the overview
        st.session_state[key] = st.query_params["period"]
    label = st.segmented_control("Period", list(CHOICES), default=None if key in st.session_state else default,
                                 key=key) or default
    return Period.whole_days(CHOICES[label]) if whole_days else Period.last_days(CHOICES[label])
