"""Lists and overrides on a customer's profile: membership and band overrides with their history, and the forms
to change them (owners, admins and reviewers; others read)."""
from __future__ import annotations

from datetime import datetime, time

import pandas as pd
import streamlit as st

from db.uow import unit_of_work
from dokani.errors import DokaniError
from dokani.risk import lists
from dokani.risk.bands import RISK_BANDS
from dokani.ui.errors import show_domain_error
from dokani.ui.risk.overview import changed


def _expiry(prefix: str, disabled: bool) -> datetime | None:
    c = st.columns(2)
    until = c[0].date_input("Expires on (optional)", value=None, key=f"{prefix}_until", disabled=disabled)
    return datetime.combine(until, time(23, 59)) if until else None


def show_lists_and_overrides(actor, email: str) -> None:
    with unit_of_work(actor) as uow:
        entries = lists.entries(uow, email=email, include_history=True)
        overrides = lists.overrides(uow, email)
    st.markdown("**Lists and overrides**")
    live = [e for e in entries if e.live]
    st.text("On: " + (", ".join(lists.LIST_LABELS[e.list_kind] for e in live) if live else "no list"))
    if entries or overrides:
        history = [{"what": f"{lists.LIST_LABELS[e.list_kind]} ({e.match_kind})", "note": e.note or "",
                    "added": e.created_at, "by": e.created_by, "expires": e.expires_at, "removed": e.removed_at,
                    "removed by": e.removed_by, "why removed": e.removed_reason, "live": e.live} for e in entries]
        history += [{"what": f"band override: {o.band}", "note": o.reason, "added": o.created_at, "by": o.created_by,
                     "expires": o.expires_at, "removed": o.removed_at, "removed by": o.removed_by,
                     "why removed": o.removed_reason, "live": o.live} for o in overrides]
        st.dataframe(pd.DataFrame(history), hide_index=True, width="stretch")
    may = actor.role in lists.CAN_EDIT
    if not may:
        st.info(f"Your role ({actor.role}) can read lists and overrides; only owners, admins and reviewers change them.",
                icon=":material/lock:")
        return
    left, right = st.columns(2)
    with left.form("risk_list_form"):
        kind = st.selectbox("Put on list", lists.LIST_KINDS, format_func=lists.LIST_LABELS.get, key="risk_list_kind")
        note = st.text_input("Note (shown in triage's reasons)", key="risk_list_note")
        reason = st.text_input("Reason (for the audit trail)", key="risk_list_reason")
        until = _expiry("risk_list", False)
        if st.form_submit_button("Add to list"):
            _act(actor, lambda uow: lists.add_to_list(uow, kind, "email", email, reason=reason, note=note,
                                                      expires_at=until),
                 f"Added to the {lists.LIST_LABELS[kind].lower()}.")
        removable = {e.id: lists.LIST_LABELS[e.list_kind] for e in live}
        if removable:
            gone = st.selectbox("Remove from", list(removable), format_func=removable.get, key="risk_list_remove")
            if st.form_submit_button("Remove from list"):
                _act(actor, lambda uow: lists.remove_from_list(uow, gone, reason=reason), "Removed from the list.")
    with right.form("risk_override_form"):
        band = st.selectbox("Set band by hand", list(RISK_BANDS), key="risk_override_band")
        why = st.text_input("Reason", key="risk_override_reason")
        until = _expiry("risk_override", False)
        if st.form_submit_button("Set band"):
            _act(actor, lambda uow: lists.set_band_override(uow, email, band, reason=why, expires_at=until),
                 f"Band set to {band}.")
        if any(o.live for o in overrides) and st.form_submit_button("Clear override"):
            _act(actor, lambda uow: lists.clear_band_override(uow, email, reason=why), "Override cleared.")


def _act(actor, change, done: str) -> None:
    try:
        with unit_of_work(actor) as uow:
            change(uow)
        changed(done)
        st.rerun()
    except DokaniError as err:
        show_domain_error(err)



