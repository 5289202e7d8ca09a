"""Risk: customer risk profiles and security events."""
import pandas as pd
import streamlit as st

from db.uow import unit_of_work
from dokani.risk import profiles as risk
from dokani.ui import format as fmt
from dokani.ui import pager
from dokani.ui.context import current_actor
from dokani.errors import DokaniError
from dokani.ui.errors import show_domain_error
from dokani.ui.links import review_link
from dokani.ui.text import md, plain

actor = current_actor()
st.title("Risk")
if flash := st.session_state.pop("risk_flash", None):
    st.success(flash)

with unit_of_work(actor) as uow:
    overview = risk.risk_overview(uow)

if overview.customers == 0:
    st.info("No customer risk profiles yet. Profiles appear once returns have been triaged.")
m = st.columns(5)
m[0].metric("Customers with a profile", fmt.number(overview.customers))
m[1].metric("High risk (≥ 0.70)", fmt.number(overview.by_band["high"]))
m[2].metric("Medium (0.35–0.70)", fmt.number(overview.by_band["medium"]))
m[3].metric("Open critical / high events", fmt.number(overview.open_events["critical"] + overview.open_events["high"]))
m[4].metric("Open events, all severities", fmt.number(sum(overview.open_events.values())))

customers_tab, events_tab = st.tabs(["Customers", "Security events"])

with customers_tab:
    f = st.columns([2, 1])
    search = f[0].text_input("Search customer email", key="risk_search", placeholder="part of an email address")
    band = f[1].selectbox("Risk band", ["All", "high", "medium", "low"], key="risk_band")
    filter_key = f"{search}|{band}"
    if st.session_state.get("risk_filter_key") != filter_key:
        st.session_state["risk_filter_key"] = filter_key
        pager.reset("risk")
    with unit_of_work(actor) as uow:
        page = risk.risky_customers(uow, band=None if band == "All" else band, search=search or None,
                                    after=pager.current_cursor("risk"))
    if not page.rows:
        st.caption("No customers match.")
    else:
        table = pd.DataFrame([r.model_dump() for r in page.rows])
        st.dataframe(
            table, hide_index=True, width="stretch",
            column_config={
                "customer_email": st.column_config.TextColumn("customer"),
                "risk_score": st.column_config.ProgressColumn("risk", min_value=0, max_value=1, format="%.2f"),
                "return_frequency": st.column_config.NumberColumn("return frequency"),
                "open_events": st.column_config.NumberColumn("open events"),
                "last_updated": st.column_config.DatetimeColumn("profile updated", format="YYYY-MM-DD HH:mm"),
            },
        )
        pager.controls("risk", page.next_cursor)
        email = st.selectbox("Open customer", [r.customer_email for r in page.rows], index=None,
                             placeholder="Choose a customer to see their profile", key="risk_customer")
        if email:
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
            returns = profile.returns.assign(review=profile.returns["public_id"].map(lambda p: review_link(p, actor)))
            st.dataframe(
                returns.drop(columns=["public_id"]), hide_index=True, width="stretch",
                column_config={"review": st.column_config.LinkColumn("review", display_text="open")},
            )
            st.markdown("**Security events**")
            if profile.events.empty:
                st.caption("None.")
            else:
                st.dataframe(profile.events, hide_index=True, width="stretch")

with events_tab:
    severity = st.selectbox("Severity", ["All", *risk.SEVERITIES], key="risk_severity")
    with unit_of_work(actor) as uow:
        events = risk.open_security_events(uow, None if severity == "All" else severity)
    if events.empty:
        st.success("No open security events.")
    else:
        st.dataframe(events.drop(columns=["event_data", "id"]), hide_index=True, width="stretch")
        labels = {i: f"{e.event_type} · {e.severity} · {e.customer_email or 'no customer'} · {e.created_at:%Y-%m-%d}"
                  for i, e in enumerate(events.itertuples())}
        chosen = st.selectbox("Event", list(labels), format_func=labels.get, index=None,
                              placeholder="Choose an event to read or resolve", key="risk_event")
        if chosen is not None:
            event = events.iloc[chosen]
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
                        st.session_state["risk_flash"] = f"Resolved: {md(event['event_type'])} ({md(event['severity'])})."
                        st.rerun()
                    except DokaniError as err:
                        show_domain_error(err)
