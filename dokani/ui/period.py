"""The reporting-period picker used by the overview, calls and risk pages."""
from __future__ import annotations

import streamlit as st

from dokani.analytics.kpis import Period

CHOICES = {"Last 7 days": 7, "Last 30 days": 30, "Last 90 days": 90, "Last 12 months": 365}


def period_picker(key: str, default: str = "Last 90 days", whole_days: bool = False) -> Period:
    """`whole_days`: calendar days up to today (the overview), so the queue's date filter shows the same rows."""
    label = st.segmented_control("Period", list(CHOICES), default=default, key=key) or default
    return Period.whole_days(CHOICES[label]) if whole_days else Period.last_days(CHOICES[label])
