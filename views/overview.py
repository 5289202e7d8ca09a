"""Overview: the business at a glance, every figure computed from the database."""
import streamlit as st

from dokani.ui.analytics.breakdowns import show_breakdowns
from dokani.ui.analytics.kpis import read_overview, show_kpis
from dokani.ui.context import current_actor
from dokani.ui.period import period_picker

actor = current_actor()
st.title("Overview")
period = period_picker("overview_period")
figures = read_overview(actor, period)
if figures.kpis.returns == 0:
    st.info("No return requests in this period. Pick a longer period, or import returns to see KPIs here.")

show_kpis(figures.kpis, figures.before, period)
show_breakdowns(figures.per_day, figures.by_category, figures.agreement)
