"""Calls: AI voice (ElevenLabs) and video (Tavus) calls — quality, latency, resolution, transcripts."""
import streamlit as st

from dokani.ui.calls.detail import show_call
from dokani.ui.calls.report import call_filter, read_calls, show_call_list, show_charts, show_figures
from dokani.ui.context import current_actor

actor = current_actor()
st.title("Calls")
flt = call_filter()
report = read_calls(actor, flt)
if report.summary.calls == 0:
    st.info("No calls match these filters. Widen the period or clear a filter.")
    st.stop()

show_figures(report.summary)
show_charts(report.per_day, report.personas)
chosen = show_call_list(report.page)
if chosen is not None:
    show_call(actor, chosen)
