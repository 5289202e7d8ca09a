"""The review panel's account of the customer and the return's past: risk profile, other returns here,
security events on this return, and the audit timeline of decisions and triage.
"""
from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from dokani.returns.review import ReturnDetail
from dokani.returns.status import label


def show_customer(d: ReturnDetail) -> None:
    st.markdown("#### The customer")
    p = d.risk_profile
    c = st.columns(3)
    c[0].metric("Profile risk score", "no profile" if p is None or p.risk_score is None else f"{p.risk_score:.2f}")
    c[1].metric("Return frequency", "no profile" if p is None or p.return_frequency is None else str(p.return_frequency))
    c[2].metric("Other returns here", str(d.other_returns_total))
    if p and (p.fraud_indicators or p.behavior_patterns):
        with st.expander("Fraud indicators and behaviour patterns"):
            st.json({"fraud_indicators": p.fraud_indicators, "behavior_patterns": p.behavior_patterns}, expanded=True)
    if d.other_returns:
        st.dataframe(
            pd.DataFrame([{"Return": str(o.public_id), "Asked": o.created_at, "Status": label(o.status),
                           "Order": o.order_id, "Value": o.order_value, "Reason": o.reason_for_return}
                          for o in d.other_returns]),
            hide_index=True, width="stretch",
            column_config={"Asked": st.column_config.DatetimeColumn("Asked (UTC)", format="YYYY-MM-DD HH:mm"),
                           "Value": st.column_config.NumberColumn("Value", format="$%.2f")},
        )
        if d.other_returns_total > len(d.other_returns):
            st.caption(f"The latest {len(d.other_returns)} of {d.other_returns_total}.")
    if d.security_events:
        st.caption("Security events on this return")
        st.dataframe(
            pd.DataFrame([{"Type": e.event_type, "Severity": e.severity, "Resolved": e.resolved, "Opened": e.created_at,
                           "Detail": json.dumps(e.event_data, default=str)} for e in d.security_events]),
            hide_index=True, width="stretch",
        )


def show_timeline(d: ReturnDetail) -> None:
    st.markdown("#### Audit timeline")
    if not d.timeline:
        st.caption("No decision or triage has been recorded by the console for this return yet.")
        return
    st.dataframe(
        pd.DataFrame([{"When (UTC)": t.at, "Who": t.actor, "Action": t.action,
                       "Status": f"{label(t.from_status)} → {label(t.to_status)}" if t.to_status else "",
                       "Note": t.note or ""} for t in d.timeline]),
        hide_index=True, width="stretch",
    )
