"""Calls: AI voice (ElevenLabs) and video (Tavus) calls — outcomes, quality, transcripts, imports and webhooks."""
import streamlit as st

from db.engine import app_url
from dokani.ui.calls import admin
from dokani.ui.calls.detail import show_call, show_call_record
from dokani.ui.calls.outcomes import show_conversations, show_outcome_charts, show_outcome_figures
from dokani.ui.calls.report import call_filter, read_calls, read_conversations, show_call_list, show_charts, show_figures
from dokani.ui.context import current_actor

actor = current_actor()
st.title("Calls")
calls_tab, conversations_tab, import_tab = st.tabs(["Calls", "Conversations", "Import & webhooks"])
with import_tab:
    admin.show(actor)
with conversations_tab:
    show_conversations(read_conversations(actor, app_url()))
with calls_tab:
    flt = call_filter(actor)
    report = read_calls(actor, flt)
    if report.summary.calls == 0:
        st.info("No calls match these filters. Widen the period or clear a filter.")
    else:
        show_figures(report.summary)
        show_outcome_figures(report.outcomes)
        show_charts(report.per_day, report.personas)
        show_outcome_charts(report.volume, report.durations, report.criteria)
        chosen = show_call_list(report.page)
        if chosen is not None:
            show_call(actor, chosen)
            show_call_record(actor, chosen.id)
