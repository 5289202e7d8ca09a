"""One call: provider ids, metrics, events and customer feedback beside its transcript (customer words as text)."""
from __future__ import annotations

import streamlit as st

from db.uow import unit_of_work
from dokani.calls import analytics as calls
from dokani.calls.analytics import CallDetail, CallRow
from dokani.ui import format as fmt
from dokani.ui.text import md, plain


def show_call(actor, row: CallRow) -> None:
    with unit_of_work(actor) as uow:
        detail = calls.call_detail(uow, row.id)
    st.subheader(md(f"{detail.call.call_type.title()} call · {detail.call.provider} · {fmt.when(detail.call.created_at)}"))
    info, talk = st.columns([1, 2])
    with info:
        _show_facts(detail)
    with talk:
        _show_transcript(detail)


def _show_facts(detail: CallDetail) -> None:
    st.markdown("**Provider ids**")
    if detail.external_ids:
        st.dataframe([{"id": k, "value": v} for k, v in detail.external_ids.items()], hide_index=True, width="stretch")
    else:
        st.caption("No provider ids recorded.")
    st.markdown("**Metrics**")
    if detail.metrics is None:
        st.caption("No analytics for this call yet.")
    else:
        mx = detail.metrics
        st.dataframe(
            [
                {"metric": "latency p50", "value": f"{fmt.number(mx.latency_ms_p50)} ms"},
                {"metric": "latency p95", "value": f"{fmt.number(mx.latency_ms_p95)} ms"},
                {"metric": "interruptions", "value": fmt.number(mx.interruptions)},
                {"metric": "sentiment (−1…1)", "value": fmt.number(mx.sentiment, 2)},
                {"metric": "resolution", "value": mx.resolution or fmt.NO_DATA},
                {"metric": "words per minute", "value": fmt.number(mx.words_per_minute)},
            ],
            hide_index=True, width="stretch",
        )
    if detail.events:
        st.markdown("**Events**")
        st.dataframe([{"at": fmt.duration_s(e.t), "event": e.type} for e in detail.events], hide_index=True, width="stretch")
    st.markdown("**Customer feedback**")
    fb = detail.customer_feedback
    if fb.rating is None and not fb.comment:
        st.caption("No feedback recorded.")
    else:
        plain(f"rating: {fb.rating if fb.rating is not None else fmt.NO_DATA} / 5")
        plain(fb.comment, empty="(no comment)")


def _show_transcript(detail: CallDetail) -> None:
    st.markdown("**Transcript**")
    if not detail.transcript:
        st.caption("No transcript for this call.")
    for line in detail.transcript:
        with st.chat_message("assistant" if line.speaker in ("agent", "ai", "assistant") else "user"):
            stamp = "" if line.at_seconds is None else f"[{fmt.duration_s(line.at_seconds)}] "
            plain(f"{stamp}{line.message}")
