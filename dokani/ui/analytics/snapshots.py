"""The overview's trend over weeks or months, read from the snapshots ``python -m dokani snapshot`` keeps;
periods without one are named, never filled in."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from db.engine import app_url
from db.uow import Actor, unit_of_work
from dokani.analytics.snapshots import SnapshotPoint, snapshot_trend
from dokani.ui import charts

KIND_LABELS = {"week": "Weeks", "month": "Months"}


@st.cache_data(ttl=5, show_spinner=False, max_entries=1000)
def _trend(actor: Actor, kind: str, count: int, database: str) -> list[SnapshotPoint]:
    """Read on every rerun: kept for a few seconds per person (the actor is in the key) and database."""
    with unit_of_work(actor) as uow:
        return snapshot_trend(uow, kind, count)


def show_snapshot_trend(actor, count: int = 12) -> None:
    st.subheader("Trend from snapshots")
    kind = st.segmented_control("Snapshots of", list(KIND_LABELS), default="week", format_func=KIND_LABELS.get,
                                key="overview_snapshot_kind") or "week"
    points = _trend(actor, kind, count, app_url())
    present = [p for p in points if p.present]
    missing = [p for p in points if not p.present]
    if not present:
        st.info(f"No {kind}ly snapshot yet for the last {count} {kind}s. Take one with "
                f"`python -m dokani snapshot --period {kind}` (the jobs runner does it on a schedule).")
        return
    frame = pd.DataFrame([{"period": p.period.first_day, "returns asked": p.opened,
                           "approval %": None if p.approval_rate is None else round(100 * p.approval_rate, 1),
                           "agreement with the AI %": None if p.agreement is None else round(100 * p.agreement, 1),
                           "decisions behind agreement": p.agreement_n} for p in present])
    fig = charts.line(frame, "period", ["approval %", "agreement with the AI %"], height=260,
                      layout={**charts.TIGHT, "yaxis": {"range": [0, 100]}})
    st.plotly_chart(fig, width="stretch", key="overview_snapshots")
    st.dataframe(frame, hide_index=True, width="stretch")
    if missing:
        st.warning(f"{len(missing)} of the last {count} {kind}s have no snapshot: "
                   + ", ".join(f"{p.period.first_day}–{p.period.last_day}" for p in missing), icon=":material/event_busy:")
