"""Returns page (being built)."""
import streamlit as st

from dokani.ui.context import current_actor

actor = current_actor()
st.title("Returns")
