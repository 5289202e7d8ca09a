"""The calls report: filters, figures, calls per day and per persona, the paged list of calls.

What every rerun reads (the report, the persona names, the conversations) is kept for a few seconds per person
(``CALLS_TTL_S``; the actor is in the cache key, so never across people or businesses) and database. The report
reads the maintained ``call_facts`` (``dokani.calls.facts``)."""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from db.engine import app_url, read_engine, read_url
from db.uow import Actor, unit_of_work
from dokani.calls import facts as calls
from dokani.calls import outcomes
from dokani.calls.analytics import CallFilter, CallPage, CallRow, CallSummary
from dokani.ui import format as fmt
from dokani.ui.charts import TIGHT_UNTITLED_LEGEND, bar
from dokani.ui import pager
from dokani.ui.period import period_picker
from dokani.labels import say

PAGER = "calls"
CALLS_TTL_S = 5
CALL_STATUSES = ("completed", "in_progress", "failed", "abandoned")


@dataclass
class CallsReport:
    summary: CallSummary
    per_day: pd.DataFrame
    personas: pd.DataFrame
    page: CallPage
    outcomes: outcomes.OutcomeSummary
    volume: pd.DataFrame
    durations: pd.DataFrame
    criteria: pd.DataFrame


EVALUATIONS = {"All": None, "successful": "success", "not successful": "failure", "unknown": "unknown"}


def call_filter(actor) -> CallFilter:
    """Period, provider, type, status, persona, evaluation; a changed filter starts the list at its first page."""
    persona_names = dict(_personas(actor, app_url()))
    top = st.columns([3, 1, 1, 1])
    # a link from the overview's call tiles (?status=completed, ?evaluation=successful)
    if st.query_params.get("status") in CALL_STATUSES and "calls_status" not in st.session_state:
        st.session_state["calls_status"] = st.query_params["status"]
    if st.query_params.get("evaluation") in EVALUATIONS and "calls_evaluation" not in st.session_state:
        st.session_state["calls_evaluation"] = st.query_params["evaluation"]
    with top[0]:
        period = period_picker("calls_period")
    provider = top[1].selectbox("Provider", ["All", "elevenlabs", "tavus"], key="calls_provider")
    call_type = top[2].selectbox("Type", ["All", "voice", "video"], key="calls_type")
    status = top[3].selectbox("Status", ["All", *CALL_STATUSES], key="calls_status")
    more = st.columns([2, 1, 2])
    persona = more[0].selectbox("Persona", [None, *persona_names], key="calls_persona",
                                format_func=lambda p: "All" if p is None else persona_names[p])
    evaluation = more[1].selectbox("Evaluation", list(EVALUATIONS), key="calls_evaluation",
                                   help="the provider's own verdict on the call (ElevenLabs call_successful)")
    flt = CallFilter(
        period=period,
        provider=None if provider == "All" else provider,
        call_type=None if call_type == "All" else call_type,
        status=None if status == "All" else status,
        persona_id=persona,
        evaluation=EVALUATIONS[evaluation],
    )
    filter_key = flt.model_dump_json(exclude={"period"}) + str(period.end.date()) + str(period.start.date())
    if st.session_state.get("calls_filter_key") != filter_key:
        st.session_state["calls_filter_key"] = filter_key
        pager.reset(PAGER)
    return flt


@st.cache_data(ttl=CALLS_TTL_S, show_spinner=False, max_entries=100)
def _personas(actor: Actor, database: str) -> list:
    with unit_of_work(actor) as uow:
        return outcomes.personas(uow)


@st.cache_data(ttl=CALLS_TTL_S, show_spinner=False, max_entries=1000)
def read_conversations(actor: Actor, database: str) -> list[outcomes.ConversationRow]:
    """Every channel's conversations, escalated first (the Conversations tab), kept for a few seconds."""
    with unit_of_work(actor) as uow:
        return outcomes.conversations(uow)


def filter_key(flt: CallFilter) -> str:
    """A filter's place in the cache key: its choices, the period's length and the day it ends (a rolling "last N
    days" ends now, which moves every second; within the cache's few seconds it is the same period)."""
    length = (flt.period.end - flt.period.start).total_seconds()
    return f"{flt.model_dump_json(exclude={'period'})}|{length}|{flt.period.end.date()}"


def read_calls(actor: Actor, flt: CallFilter) -> CallsReport:
    """The report for `flt`, kept for ``CALLS_TTL_S`` seconds per person, filter, page and database."""
    cursor = pager.current_cursor(PAGER)
    return _cached_report(actor, filter_key(flt), str(cursor), read_url(), flt, cursor)


@st.cache_data(ttl=CALLS_TTL_S, show_spinner=False, max_entries=1000)
def _cached_report(actor: Actor, key: str, cursor_key: str, database: str, _flt: CallFilter, _cursor) -> CallsReport:
    """Keyed by the actor, `key` (``filter_key``), the page and the database; `_flt` / `_cursor` are not hashed."""
    return read_calls_now(actor, _flt, _cursor)


def read_calls_now(actor: Actor, flt: CallFilter, cursor=None) -> CallsReport:
    with unit_of_work(actor, read_engine()) as uow:  # read-only: a replica when DATABASE_READ_URL is set
        return CallsReport(
            summary=calls.call_summary(uow, flt),
            per_day=calls.calls_per_day(uow, flt),
            personas=calls.quality_by_persona(uow, flt),
            page=calls.list_calls(uow, flt, after=cursor),
            outcomes=calls.outcome_summary(uow, flt),
            volume=calls.volume_by_outcome(uow, flt),
            durations=calls.duration_distribution(uow, flt),
            criteria=calls.criteria_pass_rates(uow, flt),
        )


def show_figures(summary: CallSummary) -> None:
    m = st.columns(4)
    m[0].metric("Calls", fmt.number(summary.calls))
    m[1].metric("Completed", fmt.share(summary.completed / summary.calls))
    m[2].metric("Avg duration", fmt.duration_s(summary.avg_duration_s))
    m[3].metric("Avg quality (0–5)", fmt.number(summary.avg_quality, 2))
    m = st.columns(4)
    m[0].metric("Latency p50", fmt.NO_DATA if summary.latency_p50_ms is None else f"{summary.latency_p50_ms:,.0f} ms")
    m[1].metric("Latency p95", fmt.NO_DATA if summary.latency_p95_ms is None else f"{summary.latency_p95_ms:,.0f} ms")
    m[2].metric("Resolved", fmt.share(summary.resolution_rate),
                help="calls whose analytics say resolved ÷ calls with a resolution")
    m[3].metric("Avg sentiment (−1…1)", fmt.number(summary.avg_sentiment, 2))
    if summary.with_analytics < summary.calls:
        st.caption(f"{summary.calls - summary.with_analytics} of {summary.calls} calls have no analytics yet; "
                   "latency, resolution and sentiment count only the others.")


def show_charts(per_day: pd.DataFrame, personas: pd.DataFrame) -> None:
    left, right = st.columns([3, 2])
    with left:
        st.subheader("Calls per day")
        fig = bar(per_day, "day", "calls", "provider", height=300, layout=TIGHT_UNTITLED_LEGEND)
        fmt.whole_counts(fig, per_day.groupby("day")["calls"].sum() if len(per_day) else [])
        st.plotly_chart(fig, width="stretch")
    with right:
        st.subheader("By persona")
        st.dataframe(personas.rename(columns=lambda c: str(c).replace("avg_", "average ").replace("_", " ")),
                     hide_index=True, width="stretch")


def show_call_list(page: CallPage) -> CallRow | None:
    """This page of calls with Previous / Next, and the call chosen to read (None until one is)."""
    st.subheader("Calls")
    table = [
        {"when": fmt.when(c.created_at), "type": c.call_type, "provider": c.provider, "status": say("call_status", c.status),
         "duration": fmt.duration_s(c.duration_seconds), "quality": c.call_quality_score, "persona": c.persona or "—",
         "resolution": c.resolution or "—"}
        for c in page.rows
    ]
    st.dataframe(
        table, hide_index=True, width="stretch",
        column_config={"quality": st.column_config.NumberColumn("quality (0–5)", format="%.2f")},
    )
    pager.controls(PAGER, page.next_cursor)
    labels = {i: f"{fmt.when(c.created_at)} · {c.call_type} · {c.persona or c.provider} · {say('call_status', c.status)}"
              for i, c in enumerate(page.rows)}
    chosen = st.selectbox("Open call", list(labels), format_func=labels.get, index=None,
                          placeholder="Choose a call to read its transcript", key="calls_open")
    return None if chosen is None else page.rows[chosen]
