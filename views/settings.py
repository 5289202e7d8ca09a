"""Your settings: where signing in takes you, rows per page, review SLA and the time zone times are shown in."""
import streamlit as st

from dokani.ui.accounts import preferences, settings
from dokani.ui.context import current_actor

actor = current_actor()
st.title("Your settings")
st.caption("Only you see and change these; they follow you to every business you work for.")
settings.settings_form(actor, preferences.current())
