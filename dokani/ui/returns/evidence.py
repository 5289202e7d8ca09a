"""The review panel's account of the request: what the customer asked, the order, the evidence they sent,
and the conversation. All of it is customer-supplied and rendered as plain text (``st.text`` / ``plain``).
"""
from __future__ import annotations

from datetime import datetime, timezone

import pandas as pd
import streamlit as st

from dokani.returns.review import ReturnDetail
from dokani.ui import format as fmt
from dokani.ui.text import md, plain, visible


def _stamp(raw: str | None) -> str | None:
    """A conversation timestamp as the rest of the page shows times (``2026-11-17 04:18 UTC``); odd values verbatim."""
    if not raw:
        return None
    try:
        at = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        return raw
    try:
        if at.tzinfo is not None:
            at = at.astimezone(timezone.utc).replace(tzinfo=None)
    except OverflowError:  # 0001-01-01T00:00+05:00 from a customer's log: shown as written
        return raw
    return fmt.when(at, zone_name=True)



def show_request(d: ReturnDetail) -> None:
    st.markdown("#### Request")
    st.caption(f"Reason (read by the engine as: {d.reason_code.replace('_', ' ')})")
    plain(d.reason_for_return, empty="No reason given.")
    if d.order:
        o = d.order
        rows = {
            "Product": o.product_name, "Category": o.product_category,
            "Purchased": f"{o.purchase_date:%Y-%m-%d}" if o.purchase_date else None,
            "Price": None if o.purchase_price is None else fmt.money(o.purchase_price),
            "Quantity": o.quantity, "Order value": None if o.order_value is None else fmt.money(o.order_value),
            "Order status": o.order_status,
        }
        st.dataframe(pd.DataFrame({"": list(rows), "Order": [str(v) if v is not None else "—" for v in rows.values()]}),
                     hide_index=True, width="stretch")
    else:
        st.info("This order is not in the order records: value and category are as the request states them "
                f"({fmt.money(d.order_value)}, {md(d.product_category) if d.product_category else 'no category given'}).",  # from outside
                icon=":material/help:")
    if d.admin_notes:
        st.caption("Reviewer notes")
        plain(d.admin_notes)
    if d.escalation_reason:
        st.caption("Escalation reason")
        plain(d.escalation_reason)


def show_evidence(d: ReturnDetail) -> None:
    """The links first (they always work from here); small image previews after, so a dead link stays small."""
    st.markdown("#### Evidence")
    if not d.evidence:
        st.caption("No evidence was attached.")
        return
    for k, e in enumerate(d.evidence, 1):
        row = st.columns([1, 4], vertical_alignment="center")
        if e.is_web:
            row[0].link_button(f"Open {k}", e.url, icon=":material/open_in_new:", width="stretch",
                               help=f"Evidence {k} ({e.kind}), in a new tab")
        else:
            row[0].caption(f"{k}: not a web link")
        with row[1]:
            plain(f"{e.kind if e.is_web else 'not a web link, shown as text'} · {e.url}")  # customer-supplied: text
    images = [e for e in d.evidence if e.inline]  # only our storage's images: a preview makes the browser fetch it
    if images:
        st.caption("Image previews (loaded from the links above; a link that no longer resolves shows an empty frame)")
        st.image([e.url for e in images], width=96)
    elsewhere = sum(e.kind == "image" and not e.inline for e in d.evidence)
    if elsewhere:
        st.caption(f"{elsewhere} image(s) are on other sites: not previewed here, open them from the links above.")


def show_conversation(d: ReturnDetail) -> None:
    st.markdown("#### Conversation")
    if not d.transcript:
        st.caption("No conversation was logged.")
        return
    for turn in d.transcript:
        role = "user" if turn.speaker.lower() in ("customer", "user", "client") else "assistant"
        with st.chat_message(role):
            at = _stamp(turn.at)
            st.text(visible(f"{turn.speaker}" + (f" · {at}" if at else "")))
            st.text(visible(turn.text))

