"""Returns: the queue a reviewer works through, and the review panel of one return (``?return=<public id>``)."""
import streamlit as st

from dokani.ui.returns import queue as returns_queue
from dokani.ui.returns import review as returns_review
from dokani.ui.context import current_actor

actor = current_actor()
st.title("Returns")
opened = st.query_params.get("return")
if opened:
    returns_review.show(actor, opened)
else:
    returns_queue.show(actor)
