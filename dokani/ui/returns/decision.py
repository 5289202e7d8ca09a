"""The review panel's decision form: approve, deny, escalate or complete with a note, and (re-)run triage.

A decision carries the version of the return the reviewer first saw; one on a return someone changed meanwhile
is refused, and who changed it (quoting their note) is shown as plain text.
"""
from __future__ import annotations

import streamlit as st

from db.uow import Actor, unit_of_work
from dokani.errors import Conflict, DokaniError
from dokani.returns import decisions, review
from dokani.returns.review import ReturnDetail
from dokani.returns.status import DECIDING_ROLES, label
from dokani.triage.service import RETRIAGE_STATUSES, triage_return
from dokani.ui import format as fmt
from dokani.ui.errors import show_domain_error
from dokani.ui.returns.state import SEEN_PREFIX, flash
from dokani.ui.text import visible

CLEAR_NOTE_PREFIX = "returns_clear_note:"
REFUSED_PREFIX = "returns_decision_refused:"  # why the last click's decision was not saved, shown in the panel


def _decide(actor: Actor, return_id: int, public_id: str, action: str, seen_version: str, note_key: str) -> None:
    """The click's decision, written before the page runs again (a button callback): the rerun that follows
    already draws the queue and the panel as they are after it, so one rerun answers the click, not two."""
    note = st.session_state.get(note_key) or ""
    try:
        with unit_of_work(actor) as uow:
            out = decisions.decide_return(uow, return_id, action, expected_version=seen_version, note=note)
    except Conflict as err:
        said = str(err).removeprefix("Your decision was not saved: ").removeprefix(
            "this return changed since you opened it. ")
        st.session_state[REFUSED_PREFIX + public_id] = ("conflict", said)
        return
    except DokaniError as err:
        st.session_state[REFUSED_PREFIX + public_id] = ("error", err)
        return
    st.session_state[SEEN_PREFIX + public_id] = out.version
    st.session_state[CLEAR_NOTE_PREFIX + public_id] = True
    flash("success", f"Saved: {label(out.from_status).lower()} → {label(out.to_status).lower()}.")


def _show_refusal(public_id: str) -> None:
    refused = st.session_state.pop(REFUSED_PREFIX + public_id, None)
    if refused is None:
        return
    kind, why = refused
    if kind == "conflict":
        st.warning("Your decision was not saved: someone changed this return after you opened it.",
                   icon=":material/warning:")
        st.text(visible(why))  # who did what and when, quoting their note: plain text
    else:
        show_domain_error(why)


def show(actor: Actor, d: ReturnDetail, seen_version: str) -> None:
    st.markdown("#### Decision")
    may_decide = actor.role in DECIDING_ROLES
    if not may_decide:
        # No decision controls at all for a role that cannot decide: nothing to click, nothing to mistake.
        st.info(f"Your role ({actor.role}) can read returns but not decide them.")
        if d.admin_decision_at:
            st.caption(f"Last decided {fmt.when(d.admin_decision_at, zone_name=True)}; now {d.status_label.lower()}.")
        return
    if d.status == "pending_triage":
        st.info("This return has not been triaged yet.")
    if d.status in RETRIAGE_STATUSES:
        _triage_controls(actor, d, may_decide)
    if d.admin_decision_at:
        st.caption(f"Last decided {fmt.when(d.admin_decision_at, zone_name=True)}; now {d.status_label.lower()}"
                   + (" (who and why: the audit timeline below)." if d.timeline else "."))
    note_key = f"review_note_{d.public_id}"
    if st.session_state.pop(CLEAR_NOTE_PREFIX + str(d.public_id), False):
        st.session_state[note_key] = ""  # the last decision was saved with it: start the next one empty
    st.text_area("Note", key=note_key, max_chars=5000, placeholder="Why? (needed to deny or escalate)")
    allowed = set(d.actions)
    public_id = str(d.public_id)
    # Approve on its own row, Deny and Escalate under it: every label stays whole in a narrow column.
    slots = [st.container(), *st.columns(2)]
    for slot, (action, text_, icon) in zip(slots, (("approve", "Approve", ":material/check:"),
                                                   ("deny", "Deny", ":material/block:"),
                                                   ("escalate", "Escalate", ":material/priority_high:"))):
        slot.button(text_, key=f"review_{action}", type="primary" if action == "approve" else "secondary",
                    disabled=not may_decide or action not in allowed, width="stretch", icon=icon,
                    on_click=_decide, args=(actor, d.id, public_id, action, seen_version, note_key))
    if "complete" in allowed:
        st.button("Mark completed", key="review_complete", disabled=not may_decide,
                  on_click=_decide, args=(actor, d.id, public_id, "complete", seen_version, note_key))
    if not allowed and d.status != "pending_triage":
        st.caption(f"A return that is {d.status_label.lower()} needs no decision.")
    _show_refusal(public_id)


def _triage_controls(actor: Actor, d: ReturnDetail, may_decide: bool) -> None:
    fresh = d.status == "pending_triage"
    with st.expander("Run triage now" if fresh else "Re-run triage", expanded=fresh):
        with unit_of_work(actor) as uow:
            versions = review.policy_versions(uow)
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

