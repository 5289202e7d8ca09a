"""Outcome figures and charts: provider evaluation, criteria, duration, cost, escalations, links to returns."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from dokani.calls.outcomes import ConversationRow, OutcomeSummary
from dokani.ui import format as fmt
from dokani.ui.charts import TIGHT, TIGHT_UNTITLED_LEGEND, bar
from dokani.ui.text import md
from dokani.labels import say


def show_outcome_figures(s: OutcomeSummary) -> None:
    m = st.columns(4)
    m[0].metric("Success (provider evaluation)", fmt.share(s.success_rate),
                help=f"successful ÷ calls the provider evaluated ({s.evaluated} of {s.calls})")
    m[1].metric("Total duration", fmt.duration_s(s.total_duration_s))
    m[2].metric("Escalated", fmt.share(s.escalation_rate), help="calls escalated to a person ÷ calls")
    m[3].metric("Linked to a return", fmt.share(s.linked_share), help=f"{s.linked} of {s.calls} calls")
    if s.costs:
        st.caption("Cost: " + "; ".join(f"{c.total:,.0f} {c.unit} over {c.calls} call(s)" for c in s.costs))
    else:
        st.caption("Cost: no call in this selection reported one.")
    if s.evaluated == 0:
        st.caption("No call in this selection was evaluated by its provider, so there is no success rate.")


def show_outcome_charts(volume: pd.DataFrame, durations: pd.DataFrame, criteria: pd.DataFrame) -> None:
    left, mid = st.columns(2)
    with left:
        st.subheader("Volume by outcome")
        fig = bar(volume, "outcome", "calls", "provider", height=280, layout=TIGHT_UNTITLED_LEGEND)
        fmt.whole_counts(fig, volume.groupby("outcome")["calls"].sum() if len(volume) else [])
        st.plotly_chart(fig, width="stretch", key="calls_volume_chart")
    with mid:
        st.subheader("Duration distribution")
        fig = bar(durations, "minutes", "calls", height=280, layout=TIGHT)
        fmt.whole_counts(fig, durations["calls"] if len(durations) else [])
        st.plotly_chart(fig, width="stretch", key="calls_duration_chart")
    st.subheader("Evaluation criteria pass rates by persona")
    if criteria.empty:
        st.caption("No evaluation criteria recorded for these calls (imported ElevenLabs calls carry them).")
    else:
        overall = criteria.groupby("criterion", as_index=False)[["judged", "passed"]].sum()
        cols = st.columns(min(4, len(overall)))
        for i, row in enumerate(overall.itertuples()):
            rate = row.passed / row.judged if row.judged else None
            cols[i % len(cols)].metric(f"Criterion: {md(row.criterion)}", fmt.share(rate),
                                       help=f"passed in {row.passed} of {row.judged} judged calls")
        st.dataframe(criteria, hide_index=True, width="stretch",
                     column_config={"pass_rate": st.column_config.NumberColumn("pass rate", format="percent")})


def show_conversations(rows: list[ConversationRow]) -> None:
    st.subheader("Conversations (all channels)")
    if not rows:
        st.caption("No conversations recorded in this business.")
        return
    st.caption("Escalated first, then the most recent.")
    st.dataframe(
        [{"updated": fmt.when(r.updated_at), "channel": r.channel, "customer": r.customer_email,
          "status": say("call_status", r.status), "intent": r.current_intent or "—", "escalation level": r.escalation_level or 0,
          "return": str(r.return_public_id) if r.return_public_id else "—"} for r in rows],
        hide_index=True, width="stretch",
    )
