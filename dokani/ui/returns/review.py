"""The review panel of one return: evidence, conversation, the recommendation explained, history, decision.

Opened by ``/returns?return=<public_id>`` (a shareable link). The version of the return the reviewer first
saw is kept in the session, so a decision on a return that someone else changed meanwhile is refused.
Every piece of customer text goes through ``st.text`` (never markdown or HTML).
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from uuid import UUID

import pandas as pd
import streamlit as st

from db.uow import Actor, unit_of_work
from dokani.returns import queue as svc
from dokani.errors import Conflict, DokaniError
from dokani.returns.status import DECIDING_ROLES, label
from dokani.triage.service import RETRIAGE_STATUSES, EngineReading, engine_reading, triage_return
from dokani.ui import format as fmt
from dokani.ui.context import switch_business
from dokani.ui.errors import show_domain_error
from dokani.ui.text import plain

FLASH_KEY = "returns_flash"
SEEN_PREFIX = "returns_seen_version:"
CLEAR_NOTE_PREFIX = "returns_clear_note:"
SHORT_REC = {"auto_approve": "approve", "auto_deny": "deny", "human_review": "review"}


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


def _stamp(raw: str | None) -> str | None:
    """A conversation timestamp as the rest of the page shows times (``2026-11-17 04:18 UTC``); odd values verbatim."""
    if not raw:
        return None
    try:
        at = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        return raw
    if at.tzinfo is not None:
        at = at.astimezone(timezone.utc).replace(tzinfo=None)
    return f"{at:%Y-%m-%d %H:%M} UTC"


def _reading(actor: Actor, d: svc.ReturnDetail) -> tuple[EngineReading | None, str | None]:
    """The engine's reading now, for a return with no stored rule trace (read-only); or why there is none."""
    if d.rules_fired is not None:
        return None, None
    try:
        with unit_of_work(actor) as uow:
            reading = engine_reading(uow, d.id, d.policy_version_used)
    except DokaniError as err:
        return None, f"The engine cannot read this return now: {err}"
    if reading is None:
        return None, "The engine cannot read this return now: this business has no active policy."
    return reading, None


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

    reading, no_reading = _reading(actor, detail)
    _metrics(detail, reading)

    left, right = st.columns([3, 2], gap="large")
    with left:
        _request(detail)
        _evidence(detail)
        _conversation(detail)
    with right:
        _decision(actor, detail, seen_version)
    _recommendation(detail, reading, no_reading)
    _customer(detail)
    _timeline(detail)


def _metrics(d: svc.ReturnDetail, reading: EngineReading | None) -> None:
    """Five headline figures; where nothing was stored, the engine's reading now, marked "not stored"."""
    now = "not stored"
    if reading and d.ai_recommendation and reading.result.recommendation != d.ai_recommendation:
        now = f"engine now: {SHORT_REC[reading.result.recommendation]}"
    engine = ("The engine's reading now: nothing was stored with this return, so the console's engine read it just "
              "now (explained under \"Why the AI recommends this\"). Nothing is written until triage is run.")
    chip = {"delta": now, "delta_color": "off", "delta_arrow": "off"}
    m = st.columns([1.1, 1, 1, 1, 1])
    m[0].metric("Order value", fmt.money(d.order_value))
    m[1].metric("Since purchase", "unknown" if d.days_since_purchase is None else f"{d.days_since_purchase} days")
    if d.risk_score is not None:
        m[2].metric("Risk score", f"{d.risk_score:.2f}", help="As stored with the recommendation.")
    elif reading:
        m[2].metric("Risk score", f"{reading.result.risk_score:.2f}", help=engine, **chip)
    else:
        m[2].metric("Risk score", "—", help="Not triaged yet.")
    if d.ai_recommendation:
        m[3].metric("AI recommends", SHORT_REC.get(d.ai_recommendation, d.ai_recommendation),
                    help="As stored with the return." + (" The engine reads it differently now: see below."
                                                         if now != "not stored" else ""))
    elif reading:
        m[3].metric("AI recommends", SHORT_REC[reading.result.recommendation], help=engine, **chip)
    else:
        m[3].metric("AI recommends", "—", help="Not triaged yet.")
    if d.ai_confidence is not None:
        m[4].metric("Confidence", f"{d.ai_confidence:.0%}", help="Stored with the recommendation.")
    elif reading:
        m[4].metric("Confidence", f"{reading.result.confidence:.0%}", help=engine, **chip)
    else:
        m[4].metric("Confidence", "—", help="No confidence was stored, and the engine cannot read this return now.")


def _request(d: svc.ReturnDetail) -> None:
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
                f"({fmt.money(d.order_value)}, {d.product_category or 'no category given'}).",
                icon=":material/help:")
    if d.admin_notes:
        st.caption("Reviewer notes")
        plain(d.admin_notes)
    if d.escalation_reason:
        st.caption("Escalation reason")
        plain(d.escalation_reason)


def _evidence(d: svc.ReturnDetail) -> None:
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
    images = [e for e in d.evidence if e.kind == "image"]
    if images:
        st.caption("Image previews (loaded from the links above; a link that no longer resolves shows an empty frame)")
        st.image([e.url for e in images], width=96)


def _conversation(d: svc.ReturnDetail) -> None:
    st.markdown("#### Conversation")
    if not d.transcript:
        st.caption("No conversation was logged.")
        return
    for turn in d.transcript:
        role = "user" if turn.speaker.lower() in ("customer", "user", "client") else "assistant"
        with st.chat_message(role):
            at = _stamp(turn.at)
            st.text(f"{turn.speaker}" + (f" · {at}" if at else ""))
            st.text(turn.text)


def _inputs(values: dict) -> str:
    """A clause's inputs as short readable text (``days_since_purchase: 2 · window_days: 30``)."""
    def one(v):
        if isinstance(v, float):
            return f"{v:,.2f}"
        if isinstance(v, (list, tuple)):
            return ", ".join(str(x) for x in v) or "none"
        return "—" if v is None else str(v)
    return " · ".join(f"{k}: {one(v)}" for k, v in values.items())


def _clauses(rules) -> None:
    st.dataframe(
        pd.DataFrame([{"Rule": c.rule, "Outcome": c.outcome, "Detail": c.detail, "Inputs": _inputs(c.inputs)}
                      for c in rules]),
        hide_index=True, width="stretch",
        column_config={"Rule": st.column_config.TextColumn(width=165),
                       "Outcome": st.column_config.TextColumn(width=75),
                       "Detail": st.column_config.TextColumn(width=390),
                       "Inputs": st.column_config.TextColumn(width=390, help="hover a cell to read all of it")},
    )


def _lists(violations, factors, flags: dict) -> None:
    c = st.columns(3)
    with c[0]:
        st.caption("Policy violations")
        st.text("\n".join(f"• {v}" for v in violations) or "none")
    with c[1]:
        st.caption("Risk factors")
        st.text("\n".join(f"• {v}" for v in factors) or "none")
    with c[2]:
        st.caption("Fraud flags")
        st.text("\n".join(f"• {k}" for k in sorted(k for k, v in flags.items() if v)) or "none")


def _recommendation(d: svc.ReturnDetail, reading: EngineReading | None = None, no_reading: str | None = None) -> None:
    st.markdown("#### Why the AI recommends this")
    if d.ai_recommendation:
        with st.container(border=True):
            st.markdown("**Stored with the return**")
            st.text(
                f"Recommends {SHORT_REC.get(d.ai_recommendation, d.ai_recommendation)}"
                + (f" · confidence {d.ai_confidence:.0%}" if d.ai_confidence is not None else "")
                + (f" · risk {d.risk_score:.2f}" if d.risk_score is not None else "")
                + f" · policy version {d.policy_version_used or 'unknown'} · engine {d.triage_agent_id or 'unknown'}"
                + (f" · {d.processing_time_ms} ms" if d.processing_time_ms is not None else "")
            )
            plain(d.ai_reasoning, empty="No reasoning was stored.")
            if d.rules_fired is None:
                st.caption("No rule trace was stored with this recommendation (it was made before this console's "
                           "engine): the lists below are as stored. The engine's reading now is shown underneath.")
            else:
                _clauses(d.rules_fired)
            _lists(d.policy_violations, d.risk_factors, d.fraud_flags)
    else:
        st.caption("Not triaged yet: nothing was stored." + (" The engine's reading now is below." if reading else ""))
    if reading:
        _engine_now(reading)
    elif no_reading:
        st.caption(no_reading)


def _engine_now(reading: EngineReading) -> None:
    r = reading.result
    with st.container(border=True):
        st.markdown("**The engine's reading now (not stored)**")
        basis = f"policy version {reading.policy_version}"
        if reading.fell_back:
            basis = (f"the active policy version {reading.policy_version} (version {reading.asked_version}, "
                     "which this return was triaged under, no longer exists)")
        st.caption(f"Computed just now from the order, the customer's history and {basis}. Nothing was written: "
                   "run triage to store a recommendation with this trace.")
        c = st.columns(3)
        c[0].metric("Engine recommends", SHORT_REC[r.recommendation])
        c[1].metric("Engine confidence", f"{r.confidence:.0%}")
        c[2].metric("Engine risk score", f"{r.risk_score:.2f}")
        st.text(r.reasoning)
        _clauses(r.rules_fired)
        _lists(r.policy_violations, r.risk_factors, r.fraud_flags)


def _decision(actor: Actor, d: svc.ReturnDetail, seen_version: str) -> None:
    st.markdown("#### Decision")
    may_decide = actor.role in DECIDING_ROLES
    if not may_decide:
        st.info(f"Your role ({actor.role}) can read returns but not decide them.")
    if d.status == "pending_triage":
        st.info("This return has not been triaged yet.")
    if d.status in RETRIAGE_STATUSES:
        _triage_controls(actor, d, may_decide)
    if d.admin_decision_at:
        st.caption(f"Last decided {d.admin_decision_at:%Y-%m-%d %H:%M} UTC; now {d.status_label.lower()}"
                   + (" (who and why: the audit timeline below)." if d.timeline else "."))
    note_key = f"review_note_{d.public_id}"
    if st.session_state.pop(CLEAR_NOTE_PREFIX + str(d.public_id), False):
        st.session_state[note_key] = ""  # the last decision was saved with it: start the next one empty
    note = st.text_area("Note", key=note_key, max_chars=5000,
                        placeholder="Why? (needed to deny or escalate)")
    allowed = set(d.actions)
    clicked = None
    # Approve on its own row, Deny and Escalate under it: every label stays whole in a narrow column.
    slots = [st.container(), *st.columns(2)]
    for slot, (action, text_, icon) in zip(slots, (("approve", "Approve", ":material/check:"),
                                                   ("deny", "Deny", ":material/block:"),
                                                   ("escalate", "Escalate", ":material/priority_high:"))):
        if slot.button(text_, key=f"review_{action}", type="primary" if action == "approve" else "secondary",
                       disabled=not may_decide or action not in allowed, width="stretch", icon=icon):
            clicked = action
    if "complete" in allowed and st.button("Mark completed", key="review_complete", disabled=not may_decide):
        clicked = "complete"
    if not allowed and d.status != "pending_triage":
        st.caption(f"A return that is {d.status_label.lower()} needs no decision.")
    if clicked:
        try:
            with unit_of_work(actor) as uow:
                out = svc.decide_return(uow, d.id, clicked, expected_version=seen_version, note=note)
        except Conflict as err:
            st.warning("Your decision was not saved: someone changed this return after you opened it.", icon=":material/warning:")
            said = str(err).removeprefix("Your decision was not saved: ").removeprefix(
                "this return changed since you opened it. ")
            st.text(said)  # who did what and when, quoting their note: plain text
            return
        except DokaniError as err:
            show_domain_error(err)
            return
        st.session_state[SEEN_PREFIX + str(d.public_id)] = out.version
        st.session_state[CLEAR_NOTE_PREFIX + str(d.public_id)] = True
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
            column_config={"Asked": st.column_config.DatetimeColumn("Asked (UTC)", format="YYYY-MM-DD HH:mm"),
                           "Value": st.column_config.NumberColumn("Value", format="$%.2f")},
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
