"""Calls: AI voice (ElevenLabs) and video (Tavus) calls — quality, latency, resolution, transcripts."""
import plotly.express as px
import streamlit as st

from db.uow import unit_of_work
from dokani.calls import analytics as calls
from dokani.ui import format as fmt
from dokani.ui import pager
from dokani.ui.context import current_actor
from dokani.ui.period import period_picker
from dokani.ui.text import md, plain

actor = current_actor()
st.title("Calls")

top = st.columns([3, 1, 1, 1])
with top[0]:
    period = period_picker("calls_period")
provider = top[1].selectbox("Provider", ["All", "elevenlabs", "tavus"], key="calls_provider")
call_type = top[2].selectbox("Type", ["All", "voice", "video"], key="calls_type")
status = top[3].selectbox("Status", ["All", "completed", "in_progress", "failed", "abandoned"], key="calls_status")
flt = calls.CallFilter(
    period=period,
    provider=None if provider == "All" else provider,
    call_type=None if call_type == "All" else call_type,
    status=None if status == "All" else status,
)
filter_key = flt.model_dump_json(exclude={"period"}) + str(period.end.date()) + str(period.start.date())
if st.session_state.get("calls_filter_key") != filter_key:
    st.session_state["calls_filter_key"] = filter_key
    pager.reset("calls")

with unit_of_work(actor) as uow:
    summary = calls.call_summary(uow, flt)
    per_day = calls.calls_per_day(uow, flt)
    personas = calls.quality_by_persona(uow, flt)
    page = calls.list_calls(uow, flt, after=pager.current_cursor("calls"))

if summary.calls == 0:
    st.info("No calls match these filters. Widen the period or clear a filter.")
    st.stop()

m = st.columns(4)
m[0].metric("Calls", fmt.number(summary.calls))
m[1].metric("Completed", fmt.share(summary.completed / summary.calls))
m[2].metric("Avg duration", fmt.duration_s(summary.avg_duration_s))
m[3].metric("Avg quality (0–5)", fmt.number(summary.avg_quality, 2))
m = st.columns(4)
m[0].metric("Latency p50", fmt.NO_DATA if summary.latency_p50_ms is None else f"{summary.latency_p50_ms:,.0f} ms")
m[1].metric("Latency p95", fmt.NO_DATA if summary.latency_p95_ms is None else f"{summary.latency_p95_ms:,.0f} ms")
m[2].metric("Resolved", fmt.share(summary.resolution_rate), help="calls whose analytics say resolved ÷ calls with a resolution")
m[3].metric("Avg sentiment (−1…1)", fmt.number(summary.avg_sentiment, 2))
if summary.with_analytics < summary.calls:
    st.caption(f"{summary.calls - summary.with_analytics} of {summary.calls} calls have no analytics yet; "
               "latency, resolution and sentiment count only the others.")

left, right = st.columns([3, 2])
with left:
    st.subheader("Calls per day")
    fig = px.bar(per_day, x="day", y="calls", color="provider", height=300)
    fig.update_layout(margin=dict(l=0, r=0, t=10, b=0), legend_title_text="")
    st.plotly_chart(fig, width="stretch")
with right:
    st.subheader("By persona")
    st.dataframe(personas, hide_index=True, width="stretch")

st.subheader("Calls")
table = [
    {"when": fmt.when(c.created_at), "type": c.call_type, "provider": c.provider, "status": c.status,
     "duration": fmt.duration_s(c.duration_seconds), "quality": c.call_quality_score, "persona": c.persona or "—",
     "resolution": c.resolution or "—"}
    for c in page.rows
]
st.dataframe(
    table, hide_index=True, width="stretch",
    column_config={"quality": st.column_config.NumberColumn("quality (0–5)", format="%.2f")},
)
pager.controls("calls", page.next_cursor)

labels = {i: f"{fmt.when(c.created_at)} · {c.call_type} · {c.persona or c.provider} · {c.status}" for i, c in enumerate(page.rows)}
chosen = st.selectbox("Open call", list(labels), format_func=labels.get, index=None,
                      placeholder="Choose a call to read its transcript", key="calls_open")
if chosen is None:
    st.stop()

with unit_of_work(actor) as uow:
    detail = calls.call_detail(uow, page.rows[chosen].id)
st.subheader(md(f"{detail.call.call_type.title()} call · {detail.call.provider} · {fmt.when(detail.call.created_at)}"))
info, talk = st.columns([1, 2])
with info:
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
with talk:
    st.markdown("**Transcript**")
    if not detail.transcript:
        st.caption("No transcript for this call.")
    for line in detail.transcript:
        with st.chat_message("assistant" if line.speaker in ("agent", "ai", "assistant") else "user"):
            stamp = "" if line.at_seconds is None else f"[{fmt.duration_s(line.at_seconds)}] "
            plain(f"{stamp}{line.message}")
