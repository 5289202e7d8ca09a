"""The Customers tab: find customers by email and risk band, page through them, open one's profile."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from db.uow import unit_of_work
from dokani.risk import profiles as risk
from dokani.ui import format as fmt
from dokani.ui import pager
from dokani.ui.links import review_link
from dokani.ui.text import plain

PAGER = "risk"


def show_customers_tab(actor) -> None:
    f = st.columns([2, 1])
    search = f[0].text_input("Search customer email", key="risk_search", placeholder="part of an email address")
    band = f[1].selectbox("Risk band", ["All", "high", "medium", "low"], key="risk_band")
    filter_key = f"{search}|{band}"
    if st.session_state.get("risk_filter_key") != filter_key:
        st.session_state["risk_filter_key"] = filter_key
        pager.reset(PAGER)
    with unit_of_work(actor) as uow:
        page = risk.risky_customers(uow, band=None if band == "All" else band, search=search or None,
                                    after=pager.current_cursor(PAGER))
    if not page.rows:
        st.caption("No customers match.")
        return
    st.dataframe(
        pd.DataFrame([r.model_dump() for r in page.rows]), hide_index=True, width="stretch",
        column_config={
            "customer_email": st.column_config.TextColumn("customer"),
            "risk_score": st.column_config.ProgressColumn("risk", min_value=0, max_value=1, format="%.2f"),
            "return_frequency": st.column_config.NumberColumn("return frequency"),
            "open_events": st.column_config.NumberColumn("open events"),
            "last_updated": st.column_config.DatetimeColumn("profile updated", format="YYYY-MM-DD HH:mm"),
        },
    )
    pager.controls(PAGER, page.next_cursor)
    email = st.selectbox("Open customer", [r.customer_email for r in page.rows], index=None,
                         placeholder="Choose a customer to see their profile", key="risk_customer")
    if email:
        _show_customer(actor, email)


def _show_customer(actor, email: str) -> None:
    with unit_of_work(actor) as uow:
        profile = risk.customer_risk(uow, email)
    st.subheader("Customer")
    plain(profile.customer_email)
    c = st.columns(3)
    c[0].metric("Risk score", fmt.number(profile.risk_score, 2), help=f"band: {profile.band or 'no data'}")
    c[1].metric("Return frequency", fmt.number(profile.return_frequency))
    c[2].metric("Returns on record", fmt.number(len(profile.returns)))
    left, right = st.columns(2)
    left.markdown("**Fraud indicators**")
    left.json(profile.fraud_indicators or {}, expanded=True)
    right.markdown("**Behaviour patterns**")
    right.json(profile.behavior_patterns or {}, expanded=True)
    st.markdown("**Returns**")
    returns = profile.returns.assign(review=profile.returns["public_id"].map(review_link))
    st.dataframe(
        returns.drop(columns=["public_id"]), hide_index=True, width="stretch",
        column_config={"review": st.column_config.LinkColumn("review", display_text="open")},
    )
    st.markdown("**Security events**")
    if profile.events.empty:
        st.caption("None.")
    else:
        st.dataframe(profile.events, hide_index=True, width="stretch")
