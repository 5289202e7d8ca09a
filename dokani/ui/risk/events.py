"""The Security events tab: open events by severity, one event's data, marking it resolved with a note."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from db.uow import unit_of_work
from dokani.errors import DokaniError
from dokani.risk import profiles as risk
from dokani.ui.errors import show_domain_error
from dokani.ui.risk.overview import FLASH
from dokani.ui.text import md


def show_events_tab(actor) -> None:
    severity = st.selectbox("Severity", ["All", *risk.SEVERITIES], key="risk_severity")
    with unit_of_work(actor) as uow:
        events = risk.open_security_events(uow, None if severity == "All" else severity)
    if events.empty:
        st.success("No open security events.")
        return
    st.dataframe(events.drop(columns=["event_data", "id"]), hide_index=True, width="stretch")
    labels = {i: f"{e.event_type} · {e.severity} · {e.customer_email or 'no customer'} · {e.created_at:%Y-%m-%d}"
              for i, e in enumerate(events.itertuples())}
    chosen = st.selectbox("Event", list(labels), format_func=labels.get, index=None,
                          placeholder="Choose an event to read or resolve", key="risk_event")
    if chosen is not None:
        _show_event(actor, events.iloc[chosen])


def _show_event(actor, event: pd.Series) -> None:
    st.markdown(f"**{md(event['event_type'])}** · {md(event['severity'])}")
    st.json(event["event_data"] or {}, expanded=True)
    may_resolve = actor.role in risk.CAN_RESOLVE
    if not may_resolve:
        st.info(f"Your role ({actor.role}) can read security events; only owners, admins and reviewers "
                "can resolve them.", icon=":material/lock:")
    with st.form("resolve_event"):
        note = st.text_input("Note", placeholder="what you checked", disabled=not may_resolve)
        if st.form_submit_button("Mark resolved", disabled=not may_resolve):
            try:
                with unit_of_work(actor) as uow:
                    risk.resolve_security_event(uow, event["id"], note or None)
                    uow.commit()
                st.session_state[FLASH] = f"Resolved: {md(event['event_type'])} ({md(event['severity'])})."
                st.rerun()
            except DokaniError as err:
                show_domain_error(err)
