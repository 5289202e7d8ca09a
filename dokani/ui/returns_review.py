"""The review panel of one return: evidence, conversation, the recommendation explained, history, decision.

Opened by ``/returns?return=<public_id>`` (a shareable link). The version of the return the reviewer first
saw is kept in the session, so a decision on a return that someone else changed meanwhile is refused.
Every piece of customer text goes through ``st.text`` (never markdown or HTML).
"""
from __future__ import annotations

import json
from uuid import UUID

import pandas as pd
import streamlit as st

from db.uow import Actor, unit_of_work
from dokani import returns as svc
from dokani.errors import Conflict, DokaniError
from dokani.return_status import DECIDING_ROLES, label
from dokani.triage_service import RETRIAGE_STATUSES, triage_return
from dokani.ui.context import switch_business
from dokani.ui.errors import show_domain_error
from dokani.ui.text import plain

FLASH_KEY = "returns_flash"
SEEN_PREFIX = "returns_seen_version:"


def flash(kind: str, message: str, details: list[str] | None = None) -> None:
    """A message for the next run; `details` may quote people's notes and are shown as plain text."""
    st.session_state[FLASH_KEY] = (kind, message, details or [])


def show_flash() -> None:
    kind, message, details = st.session_state.pop(FLASH_KEY, (None, None, []))
    if kind == "success":
        st.success(message, icon=":material/check_circle:")
    elif kind == "warning":
        st.warning(message, icon=":material/warning:")
    elif kind:
        st.info(message)
    if details:
        st.text("\n".join(details))


QUEUE_SNAPSHOT = "returns_queue_snapshot"
QUEUE_GENERATION = "returns_queue_generation"


def refresh_queue() -> None:
    """Drop the queue's snapshot and its row selection; the next run reads the queue again."""
    st.session_state.pop(QUEUE_SNAPSHOT, None)
    st.session_state[QUEUE_GENERATION] = st.session_state.get(QUEUE_GENERATION, 0) + 1


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
    if st.button("← Back to the queue", key="review_back"):
        close_review()
        st.rerun()
    business_id = _locate(actor, public_id)
    if business_id is None:
        st.error("No return with that id in any business you belong to. Check the link, or ask who shared it.", icon=":material/search_off:")
        return
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
        return

    with unit_of_work(actor) as uow:
        detail = svc.return_detail(uow, public_id)
    seen_key = SEEN_PREFIX + str(detail.public_id)
    seen_version = st.session_state.setdefault(seen_key, detail.version)

    show_flash()
    st.subheader(f"Return {detail.public_id}")
    asked = f" · asked {detail.created_at:%Y-%m-%d %H:%M} UTC ({_hours(detail.age_hours)} ago)" if detail.created_at else ""
    st.text(f"{detail.status_label} · order {detail.order_id} · {detail.customer_email}{asked}")  # customer data: text
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

    m = st.columns(5)
    m[0].metric("Order value", f"{detail.order_value:,.2f}")
    m[1].metric("Days since purchase", "unknown" if detail.days_since_purchase is None else str(detail.days_since_purchase))
    m[2].metric("Risk score", "—" if detail.risk_score is None else f"{detail.risk_score:.2f}")
    short = {"auto_approve": "approve", "auto_deny": "deny", "human_review": "review"}
    m[3].metric("AI recommends", short.get(detail.ai_recommendation or "", detail.ai_recommendation or "not triaged"))
    m[4].metric("Confidence", "—" if detail.ai_confidence is None else f"{detail.ai_confidence:.0%}",
                help="Stored by this console's triage engine; recommendations made before it have none (—). "
                     "Re-run triage to get one.")

    left, right = st.columns([3, 2], gap="large")
    with left:
        _request(detail)
        _evidence(detail)
        _conversation(detail)
    with right:
        _decision(actor, detail, seen_version)
    _recommendation(detail)
    _customer(detail)
    _timeline(detail)


def _request(d: svc.ReturnDetail) -> None:
    st.markdown("#### Request")
    st.caption(f"Reason (read by the engine as: {d.reason_code.replace('_', ' ')})")
    plain(d.reason_for_return, empty="No reason given.")
    if d.order:
        o = d.order
        rows = {
            "Product": o.product_name, "Category": o.product_category,
            "Purchased": f"{o.purchase_date:%Y-%m-%d}" if o.purchase_date else None,
            "Price": None if o.purchase_price is None else f"{o.purchase_price:,.2f}",
            "Quantity": o.quantity, "Order value": None if o.order_value is None else f"{o.order_value:,.2f}",
            "Order status": o.order_status,
        }
        st.dataframe(pd.DataFrame({"": list(rows), "Order": [str(v) if v is not None else "—" for v in rows.values()]}),
                     hide_index=True, width="stretch")
    else:
        st.info("This order is not in the order records: value and category are as the request states them.")
    if d.admin_notes:
        st.caption("Reviewer notes")
        plain(d.admin_notes)
    if d.escalation_reason:
        st.caption("Escalation reason")
        plain(d.escalation_reason)


def _evidence(d: svc.ReturnDetail) -> None:
    st.markdown("#### Evidence")
    if not d.evidence:
        st.caption("No evidence was attached.")
        return
    images = [e for e in d.evidence if e.kind == "image"]
    if images:
        st.image([e.url for e in images], width=180)
    for k, e in enumerate(d.evidence, 1):
        if e.is_web:
            st.link_button(f"Evidence {k} ({e.kind})", e.url)
        else:
            st.caption(f"Evidence {k}: not a web link, shown as text")
            plain(e.url)


def _conversation(d: svc.ReturnDetail) -> None:
    st.markdown("#### Conversation")
    if not d.transcript:
        st.caption("No conversation was logged.")
        return
    for turn in d.transcript:
        role = "user" if turn.speaker.lower() in ("customer", "user", "client") else "assistant"
        with st.chat_message(role):
            st.text(f"{turn.speaker}" + (f" · {turn.at}" if turn.at else ""))
            st.text(turn.text)


def _recommendation(d: svc.ReturnDetail) -> None:
    st.markdown("#### Why the AI recommends this")
    if not d.ai_recommendation:
        st.caption("Not triaged yet.")
        return
    st.text(
        f"Policy version {d.policy_version_used or 'unknown'} · engine {d.triage_agent_id or 'unknown'}"
        + (f" · {d.processing_time_ms} ms" if d.processing_time_ms is not None else "")
    )
    plain(d.ai_reasoning, empty="No reasoning was stored.")
    if d.rules_fired is None:
        st.caption("No rule trace was stored for this recommendation (it was made before the console's engine).")
    else:
        st.dataframe(
            pd.DataFrame([{"Rule": c.rule, "Outcome": c.outcome, "Detail": c.detail,
                           "Inputs": json.dumps(c.inputs, default=str)} for c in d.rules_fired]),
            hide_index=True, width="stretch",
        )
    st.caption("Policy violations")
    st.text("\n".join(str(v) for v in d.policy_violations) or "none")
    st.caption("Risk factors")
    st.text("\n".join(str(v) for v in d.risk_factors) or "none")
    flags = {k: v for k, v in d.fraud_flags.items() if v}
    st.caption("Fraud flags")
    st.text(", ".join(sorted(flags)) or "none")


def _decision(actor: Actor, d: svc.ReturnDetail, seen_version: str) -> None:
    st.markdown("#### Decision")
    may_decide = actor.role in DECIDING_ROLES
    if not may_decide:
        st.info(f"Your role ({actor.role}) can read returns but not decide them.")
    if d.status == "pending_triage":
        st.info("This return has not been triaged yet.")
    if d.status in RETRIAGE_STATUSES:
        _triage_controls(actor, d, may_decide)
    note = st.text_area("Note", key=f"review_note_{d.public_id}", max_chars=5000,
                        placeholder="Why? (needed to deny or escalate)")
    allowed = set(d.actions)
    cols = st.columns(3)
    clicked = None
    for col, (action, text_) in zip(cols, (("approve", "Approve"), ("deny", "Deny"), ("escalate", "Escalate"))):
        if col.button(text_, key=f"review_{action}", type="primary" if action == "approve" else "secondary",
                      disabled=not may_decide or action not in allowed, width="stretch"):
            clicked = action
    if "complete" in allowed and st.button("Mark completed", key="review_complete", disabled=not may_decide):
        clicked = "complete"
    if not allowed:
        st.caption(f"A return that is {d.status_label.lower()} needs no decision.")
    if clicked:
        try:
            with unit_of_work(actor) as uow:
                out = svc.decide_return(uow, d.id, clicked, expected_version=seen_version, note=note)
        except Conflict as err:
            st.warning("Your decision was not saved: someone changed this return after you opened it.", icon=":material/warning:")
            st.text(str(err))  # quotes their note: plain text
            return
        except DokaniError as err:
            show_domain_error(err)
            return
        st.session_state[SEEN_PREFIX + str(d.public_id)] = out.version
        flash("success", f"Saved: {label(out.from_status).lower()} → {label(out.to_status).lower()}.")
        st.rerun()


def _triage_controls(actor: Actor, d: svc.ReturnDetail, may_decide: bool) -> None:
    fresh = d.status == "pending_triage"
    with st.expander("Run triage now" if fresh else "Re-run triage", expanded=fresh):
        with unit_of_work(actor) as uow:
            versions = svc.policy_versions(uow)
        if not versions:
            st.caption("This business has no policy version yet.")
            return
        names = [v for v, _ in versions]
        active = {v for v, a in versions if a}
        version = st.selectbox("Policy version", names, key=f"review_policy_{d.public_id}",
                               format_func=lambda v: f"{v} (active)" if v in active else v)
        st.caption("A new return moves on (approved, denied, or to review); a return under review keeps its status "
                   "and gets a fresh recommendation.")
        if st.button("Run triage", disabled=not may_decide, key="review_triage"):
            try:
                with unit_of_work(actor) as uow:
                    out = triage_return(uow, d.id, policy_version=None if version in active else version)
            except DokaniError as err:
                show_domain_error(err)
                return
            st.session_state.pop(SEEN_PREFIX + str(d.public_id), None)  # the reviewer saw this change happen
            flash("success", f"Triaged under {out.policy_version}: {out.recommendation.replace('_', ' ')}, "
                             f"now {label(out.status_after).lower()}.")
            st.rerun()


def _customer(d: svc.ReturnDetail) -> None:
    st.markdown("#### The customer")
    p = d.risk_profile
    c = st.columns(3)
    c[0].metric("Profile risk score", "no profile" if p is None or p.risk_score is None else f"{p.risk_score:.2f}")
    c[1].metric("Return frequency", "no profile" if p is None or p.return_frequency is None else str(p.return_frequency))
    c[2].metric("Other returns here", str(d.other_returns_total))
    if p and (p.fraud_indicators or p.behavior_patterns):
        with st.expander("Fraud indicators and behaviour patterns"):
            st.json({"fraud_indicators": p.fraud_indicators, "behavior_patterns": p.behavior_patterns}, expanded=True)
    if d.other_returns:
        st.dataframe(
            pd.DataFrame([{"Return": str(o.public_id), "Asked": o.created_at, "Status": label(o.status),
                           "Order": o.order_id, "Value": o.order_value, "Reason": o.reason_for_return}
                          for o in d.other_returns]),
            hide_index=True, width="stretch",
        )
        if d.other_returns_total > len(d.other_returns):
            st.caption(f"The latest {len(d.other_returns)} of {d.other_returns_total}.")
    if d.security_events:
        st.caption("Security events on this return")
        st.dataframe(
            pd.DataFrame([{"Type": e.event_type, "Severity": e.severity, "Resolved": e.resolved, "Opened": e.created_at,
                           "Detail": json.dumps(e.event_data, default=str)} for e in d.security_events]),
            hide_index=True, width="stretch",
        )


def _timeline(d: svc.ReturnDetail) -> None:
    st.markdown("#### Audit timeline")
    if not d.timeline:
        st.caption("No decision or triage has been recorded by the console for this return yet.")
        return
    st.dataframe(
        pd.DataFrame([{"When (UTC)": t.at, "Who": t.actor, "Action": t.action,
                       "Status": f"{label(t.from_status)} → {label(t.to_status)}" if t.to_status else "",
                       "Note": t.note or ""} for t in d.timeline]),
        hide_index=True, width="stretch",
    )
