"""Overview: the business at a glance, every figure computed from the database and linked to the rows it counts."""
import streamlit as st

from dokani.ui.analytics.breakdowns import show_breakdowns, show_people_vs_ai
from dokani.ui.analytics.kpis import read_overview, show_kpis
from dokani.ui.analytics.snapshots import show_snapshot_trend
from dokani.ui.context import current_actor
from dokani.ui.period import period_picker

actor = current_actor()
st.title("Overview")
period = period_picker("overview_period", whole_days=True)
figures = read_overview(actor, period)
if figures.kpis.opened == 0:
    st.info("No return requests in this period. Pick a longer period, or import returns to see KPIs here.")

show_kpis(figures, period)
show_breakdowns(figures.per_day, figures.by_category, period)
show_people_vs_ai(figures.agreement, figures.overrides, figures.weekly, period)
show_snapshot_trend(actor)
