"""The Security events inbox: filter by type, severity and state; each event in words with its return and
customer; resolve one or many with a note. The view stays on this inbox after acting."""
from __future__ import annotations

import streamlit as st

from db.uow import unit_of_work
from dokani.errors import DokaniError
from dokani.risk import events as inbox
from dokani.risk import profiles as risk
from dokani.ui.errors import show_domain_error
from dokani.ui.links import review_link
from dokani.ui.risk.overview import changed

VIEW = "risk_view"
GOTO = "risk_goto_customer"


def apply_pending_view() -> None:
    """Before the view widget exists: open the customer an event pointed at."""
    if email := st.session_state.pop(GOTO, None):
        st.session_state[VIEW] = "Customers"
        st.session_state["risk_customer"] = email


def show_events_tab(actor) -> None:
    with unit_of_work(actor) as uow:
        types = inbox.event_types(uow)
    f = st.columns(3)
    kind = f[0].selectbox("Type", ["All", *types], key="risk_event_type")
    severity = f[1].selectbox("Severity", ["All", *risk.SEVERITIES], key="risk_severity")
    state = f[2].selectbox("State", ["open", "resolved", "all"], key="risk_event_state")
    with unit_of_work(actor) as uow:
        events = inbox.security_events(uow, event_type=None if kind == "All" else kind,
                                       severity=None if severity == "All" else severity, state=state)
    if events.empty:
        st.success("No open security events." if state == "open" else "No security events match.")
        return
    table = events.assign(
        details=events["event_data"].map(inbox.describe_event),
        review=events["return_public_id"].map(lambda p: review_link(p) if p is not None else None),
        return_public_id=events["return_public_id"].map(lambda p: str(p) if p is not None else "no return"),
    )
    st.dataframe(
        table[["created_at", "event_type", "severity", "customer_email", "return_public_id", "review", "details",
               "resolved", "resolved_at", "resolved_by"]],
        hide_index=True, width="stretch",
        column_config={"review": st.column_config.LinkColumn("return", display_text="open"),
                       "return_public_id": st.column_config.TextColumn("return id"),
                       "created_at": st.column_config.DatetimeColumn("opened (UTC)", format="YYYY-MM-DD HH:mm")},
    )
    labels = {i: f"{e.event_type} · {e.severity} · {e.customer_email or 'no customer'} · {e.created_at:%Y-%m-%d}"
              for i, e in enumerate(events.itertuples())}
    chosen = st.selectbox("Event", list(labels), format_func=labels.get, index=None,
                          placeholder="Choose an event to read or resolve", key="risk_event")
    if chosen is not None:
        e = events.iloc[chosen]
        st.text(inbox.describe_event(e["event_data"]))
        if e["customer_email"] and st.button("Open this customer's profile", key="risk_event_customer"):
            st.session_state[GOTO] = e["customer_email"]
            st.rerun()
    _resolve_form(actor, events[~events["resolved"]], labels, chosen)


def _resolve_form(actor, open_events, labels, chosen) -> None:
    if open_events.empty:
        return
    may_resolve = actor.role in risk.CAN_RESOLVE
    if not may_resolve:
        st.info(f"Your role ({actor.role}) can read security events; only owners, admins and reviewers "
                "can resolve them.", icon=":material/lock:")
    with st.form("resolve_event"):
        default = [chosen] if chosen is not None and chosen in open_events.index else []
        picked = st.multiselect("Events to resolve", list(open_events.index), default=default,
                                format_func=labels.get, disabled=not may_resolve)
        note = st.text_input("Note", placeholder="what you checked", disabled=not may_resolve)
        if st.form_submit_button("Mark resolved", disabled=not may_resolve):
            try:
                with unit_of_work(actor) as uow:
                    out = inbox.resolve_events(uow, [open_events.loc[i, "id"] for i in picked], note or None)
                changed(f"Resolved {out.resolved} event(s)." + (
                    " Not resolved: " + "; ".join(out.problems) if out.problems else ""))
                # the view is a keyed widget: it keeps this inbox open across the rerun
                st.rerun()
            except DokaniError as err:
                show_domain_error(err)
