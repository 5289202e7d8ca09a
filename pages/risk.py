"""Risk: customer risk profiles and security events."""
import streamlit as st

from dokani.ui.context import current_actor
from dokani.ui.risk.customers import show_customers_tab
from dokani.ui.risk.events import show_events_tab
from dokani.ui.risk.overview import read_overview, show_flash, show_overview

actor = current_actor()
st.title("Risk")
show_flash()
show_overview(read_overview(actor))

customers_tab, events_tab = st.tabs(["Customers", "Security events"])
with customers_tab:
    show_customers_tab(actor)
with events_tab:
    show_events_tab(actor)
