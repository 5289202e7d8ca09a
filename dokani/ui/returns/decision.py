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
                out = decisions.decide_return(uow, d.id, clicked, expected_version=seen_version, note=note)
        except Conflict as err:
            st.warning("Your decision was not saved: someone changed this return after you opened it.", icon=":material/warning:")
            said = str(err).removeprefix("Your decision was not saved: ").removeprefix(
                "this return changed since you opened it. ")
            st.text(visible(said))  # who did what and when, quoting their note: plain text
            return
        except DokaniError as err:
            show_domain_error(err)
            return
        st.session_state[SEEN_PREFIX + str(d.public_id)] = out.version
        st.session_state[CLEAR_NOTE_PREFIX + str(d.public_id)] = True
        flash("success", f"Saved: {label(out.from_status).lower()} → {label(out.to_status).lower()}.")
        st.rerun()


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

