"""In the review panel: the calls and conversations about this return (how each call was tied to it)."""
from __future__ import annotations

import streamlit as st

from db.uow import unit_of_work
from dokani.calls.linking import METHODS, calls_about_return, conversations_about_return
from dokani.ui import format as fmt
from dokani.labels import say


def show(actor, return_request_id: int) -> None:
    with unit_of_work(actor) as uow:
        calls = calls_about_return(uow, return_request_id)
        talks = conversations_about_return(uow, return_request_id)
    st.markdown("#### Calls and conversations")
    if not calls and not talks:
        st.caption("No call or conversation is linked to this return.")
        return
    if calls:
        st.dataframe([{"when": fmt.when(c.created_at), "call": f"{c.call_type} · {c.provider}", "status": say("call_status", c.status),
                       "duration": fmt.duration_s(c.duration_seconds), "linked by": METHODS.get(c.method, c.method)}
                      for c in calls], hide_index=True, width="stretch")
        st.caption("Open a call on the Calls page for its transcript and recording.")
    if talks:
        st.dataframe([{"updated": fmt.when(t.updated_at), "channel": t.channel, "status": say("call_status", t.status),
                       "intent": t.current_intent or "—", "escalation level": t.escalation_level or 0}
                      for t in talks], hide_index=True, width="stretch")
