"""Drill-down links of the overview: each figure opens the view behind it with the same filters in the query
string, so a click shows exactly the rows counted."""
from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import streamlit as st

from dokani.analytics.kpis import Period
from dokani.returns.query_string import queue_query

RETURNS_PAGE = "views/returns.py"
DECIDED = ["approved", "denied", "completed"]


def period_days(period: Period) -> dict[str, Any]:
    return {"created_from": period.first_day, "created_to": period.last_day}


def returns_query(period: Period | None = None, **fields: Any) -> dict[str, str]:
    """The queue's query string for the returns of `period` filtered by `fields` (ReturnQueueFilter names)."""
    return queue_query(**(period_days(period) if period else {}), **fields)


def returns_url(period: Period | None = None, **fields: Any) -> str:
    return "/returns?" + urlencode(returns_query(period, **fields))


def link(label: str, page: str, query: dict[str, str] | None = None, help: str | None = None) -> None:
    st.page_link(page, label=label, query_params=query or None, icon=":material/arrow_outward:", help=help)


def returns_link(label: str, period: Period | None = None, **fields: Any) -> None:
    link(label, RETURNS_PAGE, returns_query(period, **fields))
