"""Import: bring returns in from a shop's CSV export; checked whole, written whole or not at all."""
import streamlit as st

from dokani.ui.context import current_actor
from dokani.ui.returns import csv_import

actor = current_actor()
st.title("Import returns")
csv_import.show(actor)
