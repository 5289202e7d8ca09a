"""The overview's figures for a period: read in one unit of work, shown as a KPI strip with arrows against the
period before."""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from db.engine import read_engine
from db.uow import unit_of_work
from dokani.analytics import kpis as analytics
from dokani.analytics.kpis import BusinessKpis, Period
from dokani.ui import format as fmt


@dataclass
class OverviewFigures:
    kpis: BusinessKpis
    before: BusinessKpis  # the same figures for the period just before
    per_day: pd.DataFrame
    by_category: pd.DataFrame
    agreement: pd.DataFrame


def read_overview(actor, period: Period) -> OverviewFigures:
    with unit_of_work(actor, read_engine()) as uow:  # read-only: a replica when DATABASE_READ_URL is set
        kpis, before = analytics.compared_kpis(uow, period)
        return OverviewFigures(kpis, before, analytics.returns_per_day(uow, period),
                               analytics.returns_by_category(uow, period),
                               analytics.recommendation_agreement(uow, period))


def show_kpis(kpis: BusinessKpis, before: BusinessKpis, period: Period) -> None:
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
