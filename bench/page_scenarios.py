"""Which pages and interactions the benchmark renders, as the owner of the busiest demo business."""
from __future__ import annotations

from typing import Callable, Iterator

SEARCHES = ["okafor", "tanaka12", "ATL-100011", "schmidt4"]  # terms that match seeded rows


def _pick_statuses(at, i: int):
    choices = [["pending_review"], ["escalated"], ["pending_review", "escalated"], ["approved"]]
    return at.multiselect(key="queue_statuses").set_value(choices[i % len(choices)])


def _search(at, i: int = 0):
    return at.text_input(key="queue_search").input(SEARCHES[i % len(SEARCHES)])


def _uncached(at, i: int = 0):
    """A rerun with Streamlit's data caches emptied first: what the first visit, or one after the few seconds the
    caches keep, costs (every figure read from the database)."""
    import streamlit as st

    st.cache_data.clear()
    return at


CALL_FILTERS = [("calls_provider", "elevenlabs"), ("calls_status", "completed"), ("calls_provider", "tavus"),
                ("calls_type", "voice"), ("calls_evaluation", "successful"), ("calls_status", "failed"),
                ("calls_type", "video"), ("calls_evaluation", "not successful"), ("calls_provider", "All"),
                ("calls_status", "All"), ("calls_type", "All")]


def _call_filter(at, i: int = 0):
    key, value = CALL_FILTERS[i % len(CALL_FILTERS)]
    return at.selectbox(key=key).set_value(value)


def page_scenarios(pending_public_id: str) -> Iterator[tuple[str, str, dict | None, Callable | None]]:
    """(name, page, query, action): the action changes a widget before each timed rerun."""
    yield "overview", "overview", None, None
    yield "overview: uncached", "overview", None, _uncached
    yield "returns: queue", "returns", None, None
    yield "returns: uncached", "returns", None, _uncached
    yield "returns: after a filter change", "returns", None, _pick_statuses
    yield "returns: after a search", "returns", None, _search
    yield "returns: review panel", "returns", {"return": pending_public_id}, None
    yield "policies", "policies", None, None
    yield "chat test lab", "chat", None, None
    yield "calls", "calls", None, None
    yield "calls: uncached", "calls", None, _uncached
    yield "calls: after a filter change", "calls", None, _call_filter
    yield "risk", "risk", None, None
    yield "risk: uncached", "risk", None, _uncached
    yield "team", "team", None, None
