"""The Activate tab: activate a draft now or schedule it, cancel a schedule, roll back to a retired version."""
from __future__ import annotations

from datetime import datetime, time, timedelta

import streamlit as st

from dokani.policies import lifecycle
from dokani.policies.suite_gate import suite_gate_available
from dokani.policies.versions import PolicyVersion
from dokani.ui import format as fmt
from dokani.ui.policies.actions import md, run


def show_activate_tab(actor, version: PolicyVersion, versions: list[PolicyVersion], can_edit: bool) -> None:
    if not can_edit:
        st.caption("Only owners and admins can activate, schedule or roll back versions.")
    elif version.state == "active":
        _explain_active(version, versions)
    else:
        note, gate = _audit_note_and_gate(version)
        if version.state == "retired":
            _offer_rollback(actor, version, note, gate)
        else:
            _offer_activation(actor, version, note, gate)


def _explain_active(version: PolicyVersion, versions: list[PolicyVersion]) -> None:
    st.success(f"This version is active since {fmt.when(version.active_since)}.", icon=":material/verified:")
    retired = [v for v in versions if v.state == "retired"]
    st.caption("To replace it, pick a draft in **Version** above and activate or schedule it here. "
               + ("To roll back, pick a retired version (" + ", ".join(md(v.version) for v in retired[:5])
                  + (", …" if len(retired) > 5 else "") + ") and roll back to it here."
                  if retired else "There is no earlier (retired) version to roll back to."))


def _audit_note_and_gate(version: PolicyVersion) -> tuple[str | None, dict]:
    """The optional suite gate and the note for the audit trail: (note, keyword arguments for the service)."""
    require_suite = override = None
    if suite_gate_available():
        require_suite = st.checkbox("Require a passing scenario suite", value=False, key="act_suite",
                                    help="refuse unless the latest suite run against this version passed "
                                         "every scenario (see the Chat test lab)")
        override = st.text_input("Override note (activate even without a passing suite)", key="act_override")
    note = st.text_input("Note for the audit trail (optional)", key=f"act_note_{version.id}")
    return note or None, dict(require_passing_suite=bool(require_suite), override_note=override or None)


def _offer_rollback(actor, version: PolicyVersion, note: str | None, gate: dict) -> None:
    st.caption(f"Retired {fmt.when(version.retired_at)}. Rolling back makes it active again now.")
    if st.button("Roll back to this version", key="act_rollback", type="primary"):
        run(actor, lambda uow: lifecycle.rollback(uow, version.id, note=note, **gate),
            success=f"Rolled back: {md(version.version)} is active again.")


def _offer_activation(actor, version: PolicyVersion, note: str | None, gate: dict) -> None:
    if version.state == "scheduled":
        st.info(f"Scheduled to take effect at {fmt.when(version.effective_date)}.", icon=":material/schedule:")
        if st.button("Cancel the schedule", key="act_cancel"):
            run(actor, lambda uow: lifecycle.cancel_schedule(uow, version.id),
                success=f"Schedule of {md(version.version)} cancelled; it is a draft again.")
    c = st.columns(2)
    with c[0]:
        st.markdown("**Now**")
        if st.button("Activate now", key="act_now", type="primary"):
            run(actor, lambda uow: lifecycle.activate(uow, version.id, expected_lock_version=version.lock_version,
                                                      note=note, **gate),
                success=f"{md(version.version)} is now the active version.")
    if version.state == "draft":
        with c[1]:
            _offer_schedule(actor, version, gate)


def _offer_schedule(actor, version: PolicyVersion, gate: dict) -> None:
    st.markdown("**Later**")
    tomorrow = datetime.now() + timedelta(days=1)
    day = st.date_input("Effective date", value=tomorrow.date(), key="act_day")
    at = st.time_input("Time (database clock)", value=time(0, 0), key="act_time")
    if st.button("Schedule", key="act_schedule"):
        when = datetime.combine(day, at)
        run(actor, lambda uow: lifecycle.schedule(uow, version.id, when,
                                                  expected_lock_version=version.lock_version, **gate),
            success=f"{md(version.version)} will take effect at {fmt.when(when)}.")
