"""Policies: return-policy versions — draft, validate, diff, backtest, activate (now or later), roll back."""
from datetime import datetime, time, timedelta

import pandas as pd
import streamlit as st

from db.uow import unit_of_work
from dokani.policies import backtest
from dokani.policies import versions as policies
from dokani.policies.diff import diff_frame
from dokani.ui import format as fmt
from dokani.ui.policies import backtest as bt_ui
from dokani.ui.policies import editor
from dokani.ui.context import current_actor
from dokani.ui.policies.actions import (FLASH, FLASH_ERROR, SELECT_NEXT, SELECTED, lock_key, md, problems_key,
                                      refresh_metrics_when_due, run, show_flash)
from dokani.ui.text import plain

actor = current_actor()
st.title("Policy versions")
can_edit = actor.role in policies.EDITOR_ROLES

with unit_of_work(actor) as uow:
    applied = policies.apply_due_schedules(uow)
refresh_metrics_when_due(actor, force=bool(applied) or FLASH in st.session_state)
with unit_of_work(actor) as uow:
    versions = policies.list_versions(uow)
    backtests = backtest.latest_backtests(uow)

show_flash()
for v in applied:
    st.info(f"Scheduled version {md(v.version)} took effect at {fmt.when(v.effective_date)}.", icon=":material/schedule:")
if not can_edit:
    st.caption(f"You are signed in as {actor.role}: you can read versions and run backtests; "
               "only owners and admins can edit, activate or roll back.")
if not versions:
    st.info("This business has no return-policy versions yet.")
    if can_edit and st.button("Create a first draft with the default rules", key="policy_first"):
        from dokani.policies.rules import PolicyRules

        run(actor, lambda uow: policies.new_draft(uow, rules=PolicyRules().to_json(), name="v1"),
            success="Draft v1 created.", select=lambda v: v.id)
    st.stop()

editor.show_versions(versions, backtests)
with st.expander("How metrics are computed"):
    st.markdown(policies.METRICS_DOC)

by_id = {v.id: v for v in versions}
if SELECT_NEXT in st.session_state:
    st.session_state[SELECTED] = st.session_state.pop(SELECT_NEXT)
wanted = st.session_state.get(SELECTED)
if wanted not in by_id:
    from_link = st.query_params.get("version")
    active = next((v.id for v in versions if v.state == "active"), versions[0].id)
    wanted = int(from_link) if from_link and from_link.isdigit() and int(from_link) in by_id else active
    st.session_state[SELECTED] = wanted
ids = list(by_id)
selected_id = st.selectbox("Version", ids, key=SELECTED,
                           format_func=lambda i: f"{by_id[i].version} · {by_id[i].state}")
version = by_id[selected_id]

# keyed, so the open tab survives the rerun after an action (a backtest, a save, an activation)
rules_tab, diff_tab, backtest_tab, activate_tab, history_tab = st.tabs(
    ["Rules", "Diff", "Backtest", "Activate", "History"], key="policy_tab", on_change="rerun")

# ------------------------------------------------------------------ rules
with rules_tab:
    head = st.columns(4)
    head[0].metric("State", version.state)
    head[1].metric("Effective", f"{version.effective_date:%Y-%m-%d}" if version.effective_date and version.state != "draft"
                   else "—", help=fmt.when(version.effective_date) if version.effective_date else None)
    head[2].metric("Impact score", fmt.number(version.policy_impact_score, 1))
    head[3].metric("Returns that used it", fmt.number(version.usage_statistics.get("returns")))

    if version.state == "draft" and can_edit:
        opened = st.session_state.setdefault(lock_key(version.id), version.lock_version)
        problems = st.session_state.get(problems_key(version.id), {})
        key = f"pe_{version.id}_{opened}"
        if opened != version.lock_version:
            st.warning("Someone saved this draft after you opened it. Saving now will be refused; "
                       "reload to see their version (your unsaved edits here will be replaced).", icon=":material/warning:")
            if st.button("Reload the latest saved draft", key=f"{key}_reload"):
                st.session_state[lock_key(version.id)] = version.lock_version
                st.session_state.pop(problems_key(version.id), None)
                st.rerun()
        name = st.text_input("Version name", value=version.version, key=f"{key}_name")
        if "version" in problems:
            st.error(editor.problem_text("version", problems["version"]), icon=editor.ERROR_ICON)
        mode = st.segmented_control("Edit as", ["Form", "JSON"], default="Form", key=f"{key}_mode") or "Form"
        if mode == "Form":
            edited = editor.rules_form(version.rules, key, problems)
        else:
            edited = editor.rules_json_editor(version.rules, key, problems)
        b = st.columns([1, 1, 4])
        if b[0].button("Validate", key=f"{key}_validate"):
            _, found = policies.validate(edited)
            st.session_state[problems_key(version.id)] = found
            if found:  # rerun so each message is drawn next to its field, not the previous run's messages
                st.session_state[FLASH_ERROR] = (f"Not valid yet: {len(found)} problem(s), shown next to the fields "
                                                 "below. Nothing was saved.")
            else:
                st.session_state[FLASH] = "Valid: the triage engine can evaluate these rules (not saved yet)."
            st.rerun()
        if b[1].button("Save draft", key=f"{key}_save", type="primary"):
            saved = run(
                actor,
                lambda uow: policies.save_draft(uow, version.id, edited, opened, name=name),
                problems_for=version.id,
            )
            if saved is not None:
                st.session_state[lock_key(version.id)] = saved.lock_version
                st.session_state["policy_flash"] = f"Saved draft {md(saved.version)}."
                st.rerun()
        with st.expander("Delete this draft"):
            if st.button("Delete draft", key=f"{key}_delete"):
                run(actor, lambda uow: policies.delete_draft(uow, version.id, opened),
                    success=f"Deleted draft {md(version.version)}.", select=lambda _: None)
    else:
        if version.state in ("active", "retired", "scheduled"):
            st.caption(f"This version is {version.state}: it is read-only. Make a new draft from it to change it.")
        form_view, json_view = st.tabs(["As a form", "As JSON"])
        with form_view:
            editor.show_rules_readonly(version.rules)
        with json_view:
            st.json(version.rules, expanded=True)

    if can_edit:
        with st.expander("New draft from this version", expanded=False):
            with unit_of_work(actor) as uow:
                suggested = policies.suggested_name_for(uow, version.id)
            new_name = st.text_input("Name of the new draft", value=suggested, key=f"new_draft_name_{version.id}")
            if st.button("Create draft", key=f"new_draft_{version.id}"):
                run(actor, lambda uow: policies.new_draft(uow, version.id, name=new_name),
                    success=lambda v: f"Draft {md(v.version)} created from {md(version.version)}.",
                    select=lambda v: v.id)

# ------------------------------------------------------------------ diff
with diff_tab:
    c = st.columns(2)
    # Compare with the active version; the active one itself with the newest other version.
    others = [v for v in versions if v.id != version.id]
    base = next((v for v in others if v.state == "active"), others[0] if others else version)
    left = c[0].selectbox("Left", ids, index=ids.index(base.id), key=f"diff_left_{version.id}",
                          format_func=lambda i: f"{by_id[i].version} · {by_id[i].state}")
    right = c[1].selectbox("Right", ids, index=ids.index(version.id), key=f"diff_right_{version.id}",
                           format_func=lambda i: f"{by_id[i].version} · {by_id[i].state}")
    same_too = st.checkbox("Show unchanged fields too", key="diff_same")
    if left == right:
        st.caption("Pick two different versions to compare.")
    else:
        frame = diff_frame(by_id[left].rules, by_id[right].rules, by_id[left].version, by_id[right].version,
                           include_same=same_too)
        if frame.empty:
            st.info("No differences: the two versions have the same rules.")
        else:
            changed = int((frame["change"] != "same").sum())
            st.caption(f"{changed} field(s) differ.")
            st.dataframe(frame, hide_index=True, width="stretch", key="diff_table")

# ------------------------------------------------------------------ backtest
with backtest_tab:
    st.caption("Replay this version over past returns with the same triage engine the queue uses, and compare "
               "each outcome with another version's.")
    fresh = bt_ui.run_controls(actor, version, versions)
    if fresh is not None:  # stored: rerun so the version list shows it too
        st.session_state["policy_flash"] = (f"Backtest stored: {fresh.outcomes_changed:,} of "
                                            f"{fresh.returns_evaluated:,} outcomes change.")
        st.rerun()
    result = backtests.get(version.id)
    if result is None:
        st.info("This version has not been backtested yet.")
    else:
        bt_ui.show_result(result)

# ------------------------------------------------------------------ activate
with activate_tab:
    if not can_edit:
        st.caption("Only owners and admins can activate, schedule or roll back versions.")
    elif version.state == "active":
        st.success(f"This version is active since {fmt.when(version.effective_date)}.", icon=":material/verified:")
        retired = [v for v in versions if v.state == "retired"]
        st.caption("To replace it, pick a draft in **Version** above and activate or schedule it here. "
                   + ("To roll back, pick a retired version (" + ", ".join(md(v.version) for v in retired[:5])
                      + (", …" if len(retired) > 5 else "") + ") and roll back to it here."
                      if retired else "There is no earlier (retired) version to roll back to."))
    else:
        gate_available = policies.suite_gate_available()
        require_suite = override = None
        if gate_available:
            require_suite = st.checkbox("Require a passing scenario suite", value=False, key="act_suite",
                                        help="refuse unless the latest suite run against this version passed "
                                             "every scenario (see the Chat test lab)")
            override = st.text_input("Override note (activate even without a passing suite)", key="act_override")
        note = st.text_input("Note for the audit trail (optional)", key=f"act_note_{version.id}")
        kwargs = dict(require_passing_suite=bool(require_suite), override_note=override or None)
        if version.state == "retired":
            st.caption(f"Retired {fmt.when(version.retired_at)}. Rolling back makes it active again now.")
            if st.button("Roll back to this version", key="act_rollback", type="primary"):
                run(actor, lambda uow: policies.rollback(uow, version.id, note=note or None, **kwargs),
                    success=f"Rolled back: {md(version.version)} is active again.")
        else:
            if version.state == "scheduled":
                st.info(f"Scheduled to take effect at {fmt.when(version.effective_date)}.", icon=":material/schedule:")
                if st.button("Cancel the schedule", key="act_cancel"):
                    run(actor, lambda uow: policies.cancel_schedule(uow, version.id),
                        success=f"Schedule of {md(version.version)} cancelled; it is a draft again.")
            c = st.columns(2)
            with c[0]:
                st.markdown("**Now**")
                if st.button("Activate now", key="act_now", type="primary"):
                    run(actor, lambda uow: policies.activate(uow, version.id, expected_lock_version=version.lock_version,
                                                            note=note or None, **kwargs),
                        success=f"{md(version.version)} is now the active version.")
            if version.state == "draft":
                with c[1]:
                    st.markdown("**Later**")
                    tomorrow = datetime.now() + timedelta(days=1)
                    day = st.date_input("Effective date", value=tomorrow.date(), key="act_day")
                    at = st.time_input("Time (database clock)", value=time(0, 0), key="act_time")
                    if st.button("Schedule", key="act_schedule"):
                        when = datetime.combine(day, at)
                        run(actor, lambda uow: policies.schedule(uow, version.id, when,
                                                                 expected_lock_version=version.lock_version, **kwargs),
                            success=f"{md(version.version)} will take effect at {fmt.when(when)}.")

# ------------------------------------------------------------------ history
with history_tab:
    with unit_of_work(actor) as uow:
        timeline = policies.history(uow, version.id)
    st.markdown("**Changes**")
    if not timeline:
        st.caption("No recorded changes for this version: it was created before the audit trail (or imported).")
    else:
        st.dataframe(pd.DataFrame(timeline).iloc[::-1], hide_index=True, width="stretch", key="policy_history",
                     column_config={"when": st.column_config.DatetimeColumn("when", format="YYYY-MM-DD HH:mm")})
    if version.based_on_id and version.based_on_id in by_id:
        st.caption("Drafted from:")
        plain(by_id[version.based_on_id].version)
    st.markdown("**Usage and compliance** (from the returns triaged under this version)")
    if not (version.usage_statistics or {}).get("returns"):
        st.info("No return has been triaged under this version yet, so there are no usage or compliance figures. "
                "Backtest it to see what it would change.", icon=":material/info:")
    else:
        usage, compliance = st.columns(2)
        usage.dataframe(editor.usage_frame(version.usage_statistics), hide_index=True, width="stretch",
                        key="policy_usage")
        compliance.dataframe(editor.compliance_frame(version.compliance_metrics or {}), hide_index=True,
                             width="stretch", key="policy_compliance")
        by_status, by_ai = st.columns(2)
        by_status.dataframe(editor.breakdown_frame(version.usage_statistics, "by_status", "status now"),
                            hide_index=True, width="stretch", key="policy_by_status")
        by_ai.dataframe(editor.breakdown_frame(version.usage_statistics, "by_recommendation", "AI recommendation"),
                        hide_index=True, width="stretch", key="policy_by_ai")
