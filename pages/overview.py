"""Overview: the business at a glance, every figure computed from the database."""
import plotly.express as px
import streamlit as st

from db.uow import unit_of_work
from dokani.analytics import kpis as analytics
from dokani.ui import format as fmt
from dokani.ui.context import current_actor
from dokani.ui.period import period_picker

actor = current_actor()
st.title("Overview")
period = period_picker("overview_period")

with unit_of_work(actor) as uow:
    kpis, before = analytics.compared_kpis(uow, period)
    per_day = analytics.returns_per_day(uow, period)
    by_category = analytics.returns_by_category(uow, period)
    agreement = analytics.recommendation_agreement(uow, period)

if kpis.returns == 0:
    st.info("No return requests in this period. Pick a longer period, or import returns to see KPIs here.")


st.caption(f"Arrows compare with the previous {(period.end - period.start).days} days.")
c = st.columns(4)
c[0].metric("Return requests", fmt.number(kpis.returns), fmt.delta(kpis.returns, before.returns), delta_color="off")
c[1].metric("Awaiting a decision", fmt.number(kpis.awaiting_decision), help="pending triage, pending review or escalated")
c[2].metric("Approval rate", fmt.share(kpis.approval_rate), fmt.delta(kpis.approval_rate, before.approval_rate, "share"),
            delta_color="off", help="approved or completed ÷ decided")
c[3].metric("Settled by the AI", fmt.share(kpis.auto_decided_share),
            fmt.delta(kpis.auto_decided_share, before.auto_decided_share, "share"),
            help="auto-approve or auto-deny ÷ triaged returns")
c = st.columns(4)
c[0].metric("Refunded value", fmt.money(kpis.refund_value), fmt.delta(kpis.refund_value, before.refund_value, "money"),
            delta_color="off", help="order value of approved and completed returns")
c[1].metric("Value at stake", fmt.money(kpis.value_at_stake), help="order value of returns waiting for a decision")
c[2].metric(
    "Median triage time",
    fmt.NO_DATA if kpis.median_processing_ms is None else f"{kpis.median_processing_ms:,.0f} ms",
)
c[3].metric("Customer satisfaction (1–5)", fmt.number(kpis.avg_satisfaction, 2), help="average score on returns that have one")
c = st.columns(4)
c[0].metric("Open security events", fmt.number(kpis.open_security_events))
c[1].metric("AI calls", fmt.number(kpis.calls))

left, right = st.columns([3, 2])
with left:
    st.subheader("Returns per day")
    if per_day.empty:
        st.caption("No returns in this period.")
    else:
        fig = px.bar(per_day, x="day", y="returns", color="status", height=320,
                     color_discrete_map=fmt.STATUS_COLORS, category_orders={"status": fmt.STATUS_ORDER})
        fig.update_layout(margin=dict(l=0, r=0, t=10, b=0), legend_title_text="")
        st.plotly_chart(fig, width="stretch")
with right:
    st.subheader("By category")
    if by_category.empty:
        st.caption("No returns in this period.")
    else:
        st.dataframe(
            by_category,
            hide_index=True,
            width="stretch",
            column_config={"value": st.column_config.NumberColumn("order value", format="dollar")},
        )
    st.subheader("People vs. the AI")
    if agreement.empty:
        st.caption("No decided returns with an AI recommendation in this period.")
    else:
        st.dataframe(agreement, hide_index=True, width="stretch")
