"""The Customers view: filters (band, list, minimum returns, email), customers ranked by effective risk, one profile."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from db.engine import app_url
from db.uow import Actor, unit_of_work
from dokani.risk import profiles as risk
from dokani.risk.bands import NOT_SCORED
from dokani.risk.lists import LIST_KINDS, LIST_LABELS
from dokani.ui import format as fmt
from dokani.ui import pager
from dokani.ui.links import review_link
from dokani.ui.risk.lists import show_lists_and_overrides
from dokani.ui.risk.overview import generation
from dokani.ui.risk.words import factor_lines, patterns_sentence
from dokani.ui.text import plain

PAGER = "risk"
BANDS = ["All", "high", "medium", "low", "not scored"]


@st.cache_data(ttl=5, show_spinner=False, max_entries=1000)
def _customers(actor: Actor, band: str | None, search: str | None, list_kind: str | None, min_returns: int,
               after: tuple | None, generation: int, database: str) -> risk.CustomerPage:
    """The page of customers, read on every rerun: kept for a few seconds per person, filter and database (the
    actor is in the key, so never across people or businesses); `generation` moves after this person's changes."""
    with unit_of_work(actor) as uow:
        return risk.risky_customers(uow, band=band, search=search, list_kind=list_kind, min_returns=min_returns,
                                    after=after)


def show_customers_tab(actor) -> None:
    f = st.columns([2, 1, 1, 1])
    search = f[0].text_input("Search customer email", key="risk_search", placeholder="part of an email address")
    band = f[1].selectbox("Risk band", BANDS, key="risk_band", help=risk.RISK_BANDS_HELP)
    on_list = f[2].selectbox("List", ["Any", *LIST_KINDS], key="risk_list",
                             format_func=lambda k: LIST_LABELS.get(k, k))
    min_returns = f[3].number_input("Minimum returns", min_value=0, max_value=10_000, value=0, step=1,
                                    key="risk_min_returns")
    filter_key = f"{search}|{band}|{on_list}|{min_returns}"
    if st.session_state.get("risk_filter_key") != filter_key:
        st.session_state["risk_filter_key"] = filter_key
        pager.reset(PAGER)
    cursor = pager.current_cursor(PAGER)
    page = _customers(actor, None if band == "All" else band, search or None, None if on_list == "Any" else on_list,
                      int(min_returns), tuple(cursor) if cursor else None, generation(), app_url())
    if not page.rows:
        st.caption("No customers match.")
        return
    frame = pd.DataFrame([r.model_dump() for r in page.rows])
    frame["effective_band"] = frame["effective_band"].fillna(NOT_SCORED)
    frame["band"] = frame["band"].fillna(NOT_SCORED)
    frame["lists"] = frame["lists"].map(lambda ls: ", ".join(ls) if ls else "")
    st.dataframe(
        frame[["customer_email", "effective_band", "risk_score", "band", "overridden", "lists", "returns", "denied",
               "open_events", "last_updated"]],
        hide_index=True, width="stretch",
        column_config={
            "customer_email": st.column_config.TextColumn("Customer"),
            "effective_band": st.column_config.TextColumn("Effective band", help="a live override, else the computed band"),
            "risk_score": st.column_config.ProgressColumn("Computed score", min_value=0, max_value=1, format="%.2f"),
            "band": st.column_config.TextColumn("Computed band"),
            "overridden": st.column_config.CheckboxColumn("Override"),
            "lists": st.column_config.TextColumn("Lists"),
            "returns": st.column_config.NumberColumn("Returns"),
            "denied": st.column_config.NumberColumn("Denied"),
            "open_events": st.column_config.NumberColumn("Open events"),
            "last_updated": st.column_config.DatetimeColumn("Score changed (UTC)", format="YYYY-MM-DD HH:mm"),
        },
    )
    pager.controls(PAGER, page.next_cursor)
    emails = [r.customer_email for r in page.rows]
    wanted = st.session_state.get("risk_customer")
    if wanted and wanted not in emails:  # opened from an event: keep it choosable
        emails.append(wanted)
    email = st.selectbox("Open customer", emails, index=None,
                         placeholder="Choose a customer to see their profile", key="risk_customer")
    if email:
        show_customer(actor, email)


def show_customer(actor, email: str) -> None:
    with unit_of_work(actor) as uow:
        profile = risk.customer_risk(uow, email)
    st.subheader("Customer")
    plain(profile.customer_email)
    c = st.columns(4)
    c[0].metric("Effective band", profile.effective_band or NOT_SCORED,
                help="A live band override beats the computed band until it expires.")
    c[1].metric("Computed score", fmt.number(profile.risk_score, 2) if profile.scored else NOT_SCORED,
                help=(f"The profile holds {profile.stored_score:.2f}, written outside the console (not computed here)."
                      if profile.stored_score is not None else "From the customer's history; weights below."))
    c[2].metric("Returns, last 365 days", fmt.number(profile.return_frequency) if profile.scored else NOT_SCORED)
    c[3].metric("Returns on record", fmt.number(len(profile.returns)))
    if profile.override is not None:
        until = f" until {profile.override.expires_at:%Y-%m-%d %H:%M} UTC" if profile.override.expires_at else ""
        st.warning(f"Band set to {profile.override.band} by hand{until}.", icon=":material/front_hand:")
        plain(f"Reason: {profile.override.reason}")
    st.markdown("**What the score is made of**")
    if not profile.scored:
        st.caption("Not scored yet: recompute risk (below) or triage one of this customer's returns.")
    elif not profile.factors:
        st.caption("Nothing in this customer's history adds to the score.")
    else:
        public = {int(r.id): str(r.public_id) for r in profile.returns.itertuples()}
        for line in factor_lines(profile.factors, public):
            st.text(line)
        st.text(patterns_sentence(profile.behavior_patterns))
    st.markdown("**Returns**")
    if profile.returns.empty:
        st.caption("None.")
    else:
        returns = profile.returns.assign(review=profile.returns["public_id"].map(review_link),
                                         public_id=profile.returns["public_id"].astype(str))
        st.dataframe(
            returns.drop(columns=["id"]), hide_index=True, width="stretch",
            column_config={"review": st.column_config.LinkColumn("review", display_text="open"),
                           "risk_score": st.column_config.NumberColumn("risk (triage)", format="%.2f",
                                                                        help="blank: not triaged, not scored yet")},
        )
    st.markdown("**Security events**")
    if profile.events.empty:
        st.caption("None.")
    else:
        from dokani.risk.events import describe_event

        events = profile.events.assign(details=profile.events["event_data"].map(describe_event),
                                       return_public_id=profile.events["return_public_id"].astype(str))
        st.dataframe(events.drop(columns=["id", "event_data"]), hide_index=True, width="stretch")
    show_lists_and_overrides(actor, email)
