"""The review panel's account of the customer and the return's past: risk profile, other returns here,
security events on this return, and the audit timeline of decisions and triage.
"""
from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from dokani.returns.review import ReturnDetail
from dokani.returns.status import label
from dokani.risk.bands import NOT_SCORED
from dokani.risk.scoring import BehaviorPatterns
from dokani.ui.risk.words import factor_lines
from dokani.labels import say


def show_customer(d: ReturnDetail) -> None:
    st.markdown("#### The customer")
    p = d.risk_profile
    c = st.columns(3)
    scored = p is not None and p.risk_score is not None
    imported = "" if p is None or p.stored_score is None else f" The profile holds {p.stored_score:.2f}, not computed here."
    c[0].metric("Customer history score", f"{p.risk_score:.2f}" if scored else NOT_SCORED,
                help="The customer's own score from their history (Risk page): one input of this return's risk, "
                     "not the return's risk." + imported)
    c[1].metric("Returns in the last 365 days", str(p.return_frequency) if scored and p.return_frequency is not None
                else NOT_SCORED)
    c[2].metric("Other returns here", str(d.other_returns_total))
    if scored:
        factors = BehaviorPatterns.model_validate(p.behavior_patterns).factors
        if factors:
            with st.expander("What the customer's score is made of"):
                for line in factor_lines(factors):
                    st.text(line)
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
        pd.DataFrame([{"When (UTC)": t.at, "Who": t.actor, "Action": say("audit", t.action),
                       "Status": f"{label(t.from_status)} → {label(t.to_status)}" if t.to_status else "",
                       "Note": t.note or ""} for t in d.timeline]),
        hide_index=True, width="stretch",
    )
