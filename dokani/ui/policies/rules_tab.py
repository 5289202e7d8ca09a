"""The Rules tab: a version's key figures, then its rules — editable for a draft (form or JSON, validate,
save, delete), read-only otherwise — and a new draft made from it."""
from __future__ import annotations

import streamlit as st

from db.uow import unit_of_work
from dokani.policies import lifecycle, names
from dokani.policies.versions import PolicyVersion
from dokani.ui import format as fmt
from dokani.ui.policies import editor
from dokani.ui.policies.actions import FLASH, FLASH_ERROR, lock_key, md, problems_key, run


def show_rules_tab(actor, version: PolicyVersion, can_edit: bool) -> None:
    _show_figures(version)
    if version.state == "draft" and can_edit:
        _edit_draft(actor, version)
    else:
        _show_read_only(version)
    if can_edit:
        _new_draft_from(actor, version)


def _show_figures(version: PolicyVersion) -> None:
    head = st.columns(4)
    head[0].metric("State", version.state)
    head[1].metric("Effective", f"{version.effective_date:%Y-%m-%d}" if version.effective_date and version.state != "draft"
                   else "—", help=f"first took effect {fmt.when(version.effective_date)}; every period in force is "
                                  "under History" if version.effective_date else None)
    head[2].metric("Impact score", fmt.number(version.policy_impact_score, 1))
    head[3].metric("Returns that used it", fmt.number(version.usage_statistics.get("returns")))


def _edit_draft(actor, version: PolicyVersion) -> None:
    opened = st.session_state.setdefault(lock_key(version.id), version.lock_version)
    problems = st.session_state.get(problems_key(version.id), {})
    key = f"pe_{version.id}_{opened}"
    if opened != version.lock_version:
        _offer_reload(version, key)
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
        _validate(version, edited)
    if b[1].button("Save draft", key=f"{key}_save", type="primary"):
        saved = run(actor, lambda uow: lifecycle.save_draft(uow, version.id, edited, opened, name=name),
                    problems_for=version.id)
        if saved is not None:
            st.session_state[lock_key(version.id)] = saved.lock_version
            st.session_state[FLASH] = f"Saved draft {md(saved.version)}."
            st.rerun()
    with st.expander("Delete this draft"):
        if st.button("Delete draft", key=f"{key}_delete"):
            run(actor, lambda uow: lifecycle.delete_draft(uow, version.id, opened),
                success=f"Deleted draft {md(version.version)}.", select=lambda _: None)


def _offer_reload(version: PolicyVersion, key: str) -> None:
    st.warning("Someone saved this draft after you opened it. Saving now will be refused; "
               "reload to see their version (your unsaved edits here will be replaced).", icon=":material/warning:")
    if st.button("Reload the latest saved draft", key=f"{key}_reload"):
        st.session_state[lock_key(version.id)] = version.lock_version
        st.session_state.pop(problems_key(version.id), None)
        st.rerun()


def _validate(version: PolicyVersion, edited: dict | str) -> None:
    _, found = lifecycle.validate(edited)
    st.session_state[problems_key(version.id)] = found
    if found:  # rerun so each message is drawn next to its field, not the previous run's messages
        st.session_state[FLASH_ERROR] = (f"Not valid yet: {len(found)} problem(s), shown next to the fields "
                                         "below. Nothing was saved.")
    else:
        st.session_state[FLASH] = "Valid: the triage engine can evaluate these rules (not saved yet)."
    st.rerun()


def _show_read_only(version: PolicyVersion) -> None:
    if version.state in ("active", "retired", "scheduled"):
        st.caption(f"This version is {version.state}: it is read-only. Make a new draft from it to change it.")
    form_view, json_view = st.tabs(["As a form", "As JSON"])
    with form_view:
        editor.show_rules_readonly(version.rules)
    with json_view:
        st.json(version.rules, expanded=True)


def _new_draft_from(actor, version: PolicyVersion) -> None:
    with st.expander("New draft from this version", expanded=False):
        with unit_of_work(actor) as uow:
            suggested = names.suggested_name_for(uow, version.id)
        new_name = st.text_input("Name of the new draft", value=suggested, key=f"new_draft_name_{version.id}")
        if st.button("Create draft", key=f"new_draft_{version.id}"):
            run(actor, lambda uow: lifecycle.new_draft(uow, version.id, name=new_name),
                success=lambda v: f"Draft {md(v.version)} created from {md(version.version)}.",
                select=lambda v: v.id)
