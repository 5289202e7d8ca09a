"""Risk: customers ranked by effective risk with their profiles, lists and overrides; the security events inbox."""
import streamlit as st

from dokani.ui.context import current_actor
from dokani.ui.risk.customers import show_customers_tab
from dokani.ui.risk.events import VIEW, apply_pending_view, show_events_tab
from dokani.ui.risk.overview import read_overview, show_flash, show_overview, show_recompute, show_weights

actor = current_actor()
st.title("Risk")
show_flash()
show_overview(read_overview(actor))
show_recompute(actor)
apply_pending_view()

view = st.segmented_control("View", ["Customers", "Security events", "Weights"], key=VIEW, default="Customers") \
    or "Customers"
if view == "Customers":
    show_customers_tab(actor)
elif view == "Security events":
    show_events_tab(actor)
else:
    show_weights()
