"""The review panel of one return: the header and the layout of its sections (each in its own module).

Opened by ``/returns?return=<public_id>`` (a shareable link). The version of the return the reviewer first
saw is kept in the session, so a decision on a return that someone else changed meanwhile is refused.
Every piece of customer text goes through ``st.text`` (never markdown or HTML).
"""
from __future__ import annotations

from uuid import UUID

import streamlit as st

from db.uow import Actor, unit_of_work
from dokani.returns import review as svc
from dokani.returns.review import ReturnDetail
from dokani.ui import format as fmt
from dokani.ui.calls import about_return as calls_about_return
from dokani.ui.context import switch_business
from dokani.ui.returns import decision, evidence, history, recommendation
from dokani.ui.returns.state import SEEN_PREFIX, refresh_queue, show_flash
from dokani.ui.text import visible


def close_review() -> None:
    st.query_params.pop("return", None)
    refresh_queue()  # a decision made here must show in the queue


def _locate(actor: Actor, public_id: str) -> UUID | None:
    """Which of the user's businesses holds this return (row-level security decides what is visible)."""
    anywhere = Actor(user_id=actor.user_id, business_id=None, role=actor.role, email=actor.email)
    with unit_of_work(anywhere) as uow:
        return svc.locate_return(uow, public_id)


def _hours(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.0f} h" if value < 72 else f"{value / 24:.1f} days"


def _share_link(public_id: UUID) -> str:
    """The address of this panel, on this server when the browser told us where that is."""
    try:
        base = (st.context.url or "").split("?", 1)[0]
    except Exception:  # noqa: BLE001 - no browser context (tests, bare runs)
        base = ""
    base = base.rsplit("/returns", 1)[0] if "/returns" in base else base.rstrip("/")
    return f"{base}/returns?return={public_id}"


def show(actor: Actor, public_id: str) -> None:
    """The panel: back to the queue, the return's business made the acting one, the header, then each section."""
    if st.button("← Back to the queue", key="review_back"):
        close_review()
        st.rerun()
    if not _in_acting_business(actor, public_id):
        return
    with unit_of_work(actor) as uow:
        detail = svc.return_detail(uow, public_id)
    seen_version = _header(detail)

    reading, no_reading = recommendation.reading_now(actor, detail)
    recommendation.show_metrics(detail, reading)

    left, right = st.columns([3, 2], gap="large")
    with left:
        evidence.show_request(detail)
        evidence.show_evidence(detail)
        evidence.show_conversation(detail)
        calls_about_return.show(actor, detail.id)
    with right:
        decision.show(actor, detail, seen_version)
    recommendation.show(detail, reading, no_reading)
    history.show_customer(detail)
    history.show_timeline(detail)


def _in_acting_business(actor: Actor, public_id: str) -> bool:
    """True when the return is in the acting business; else switch to its business once, or say why not."""
    business_id = _locate(actor, public_id)
    if business_id is None:
        st.error("No return with that id in any business you belong to. Check the link, or ask who shared it.", icon=":material/search_off:")
        return False
    if business_id != actor.business_id:
        tried = f"returns_switch_tried:{public_id}"
        if not st.session_state.get(tried) and switch_business(business_id):
            st.session_state[tried] = True  # once: never loop if the switch does not take
            st.rerun()
        if st.session_state.get(tried):
            st.error("That return belongs to another of your businesses: choose it under Business in the sidebar.",
                     icon=":material/swap_horiz:")
        else:
            st.error("That return belongs to a business you are not a member of.", icon=":material/lock:")
        return False
    return True


def _header(detail: ReturnDetail) -> str:
    """Who asked what and when, the link to share, and a warning when the return changed since it was opened.

    Returns the version the reviewer first saw (kept in the session), which their decision carries.
    """
    seen_key = SEEN_PREFIX + str(detail.public_id)
    seen_version = st.session_state.setdefault(seen_key, detail.version)

    show_flash()
    st.subheader(f"Return {detail.public_id}")
    asked = f" · asked {fmt.when(detail.created_at, zone_name=True)} ({_hours(detail.age_hours)} ago)" if detail.created_at else ""
    st.text(visible(f"{detail.status_label} · order {detail.order_id} · {detail.customer_email}{asked}"))  # customer data: text
    st.caption("Link to share (opens this panel for any member of the business):")
    st.code(_share_link(detail.public_id), language=None)
    if detail.is_test:
        st.info("A test return opened in the chat test lab: it is not in the live queue or its figures.")
    if seen_version != detail.version:
        st.warning(
            "This return changed since you opened it; it is now "
            f"{detail.status_label.lower()}. A decision based on what you saw will be refused. "
            "Reload to decide on the current state.",
            icon=":material/warning:",
        )
        if st.button("Reload the current state", key="review_reload"):
            st.session_state[seen_key] = detail.version
            st.rerun()
    return seen_version
