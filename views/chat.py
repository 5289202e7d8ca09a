"""Chat test lab: talk to the customer-service agent as a simulated customer, run scenario suites, manage personas."""
import streamlit as st

from dokani.ui.lab import personas as chat_personas
from dokani.ui.lab import sessions as chat_sessions
from dokani.ui.lab import suites as chat_suites
from dokani.ui.context import current_actor

actor = current_actor()
st.title("Chat test lab")
st.caption("Test a persona against a return-policy version (the active one or a draft) before customers meet it. "
           "Returns opened here are test data and never reach the live queue.")

# keyed, so the open tab survives the rerun after an action (saving a persona, creating a session)
chat_tab, suites_tab, personas_tab = st.tabs(["Test chat", "Scenario suites", "Personas"], key="chat_tab",
                                             on_change="rerun")
with chat_tab:
    chat_sessions.show(actor)
with suites_tab:
    chat_suites.show(actor)
with personas_tab:
    chat_personas.show(actor)
