"""The top of the Policies page: what is read for it, what changed since the last visit, the version list and
the version picker."""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from db.uow import unit_of_work
from dokani.policies import backtest, lifecycle, versions
from dokani.policies.backtest import BacktestResult
from dokani.policies.metrics import METRICS_DOC, STALE_AFTER
from dokani.policies.rules import PolicyRules
from dokani.policies.versions import EDITOR_ROLES, PolicyVersion
from dokani.ui import format as fmt
from dokani.ui.policies.actions import SELECT_NEXT, SELECTED, md, run


@dataclass
class PoliciesView:
    """Everything the page draws from: schedules that just took effect, the versions, their latest backtests."""

    applied: list[PolicyVersion]
    versions: list[PolicyVersion]
    backtests: dict[int, BacktestResult]


def can_edit(actor) -> bool:
    return actor.role in EDITOR_ROLES


def read_policies(actor) -> PoliciesView:
    """Apply due schedules, then read the versions (with the metrics the worker stored) and their latest backtests."""
    with unit_of_work(actor) as uow:
        applied = lifecycle.apply_due_schedules(uow)
    with unit_of_work(actor) as uow:
        return PoliciesView(applied, versions.list_versions(uow), backtest.latest_backtests(uow))


def show_notes(actor, applied: list[PolicyVersion]) -> None:
    """Schedules that took effect on this visit, and what the signed-in role may do."""
    for v in applied:
        st.info(f"Scheduled version {md(v.version)} took effect at {fmt.when(v.effective_date)}.",
                icon=":material/schedule:")
    if not can_edit(actor):
        st.caption(f"You are signed in as {actor.role}: you can read versions and run backtests; "
                   "only owners and admins can edit, activate or roll back.")


def offer_first_draft(actor) -> None:
    """The empty state: no version yet; an editor may create a first draft with the default rules."""
    st.info("This business has no return-policy versions yet.")
    if can_edit(actor) and st.button("Create a first draft with the default rules", key="policy_first"):
        run(actor, lambda uow: lifecycle.new_draft(uow, rules=PolicyRules().to_json(), name="v1"),
            success="Draft v1 created.", select=lambda v: v.id)


STATE_BADGE = {"draft": "draft", "scheduled": "scheduled", "active": "active", "retired": "retired"}


def version_table(versions_: list[PolicyVersion], backtests: dict[int, BacktestResult]) -> pd.DataFrame:
    rows = []
    for v in versions_:
        bt = backtests.get(v.id)
        rows.append({
            "version": v.version,
            "state": STATE_BADGE.get(v.state, v.state),
            # a draft has no effective date yet (whatever an imported row says)
            "effective": fmt.when(v.effective_date) if v.effective_date and v.state != "draft" else "—",
            "last changed by": v.last_changed_by or "no edits recorded",
            "changed at": fmt.when(v.last_changed_at) if v.last_changed_at else "—",
            "impact score": v.policy_impact_score,
            "returns": v.usage_statistics.get("returns"),
            "latest backtest": (f"{bt.outcomes_changed} of {bt.returns_evaluated} change vs {bt.baseline_version}"
                                if bt else "not run"),
        })
    return pd.DataFrame(rows)


def show_versions(versions_: list[PolicyVersion], backtests: dict[int, BacktestResult]) -> None:
    """The version list: every version with its state, last change, metrics and latest backtest."""
    st.dataframe(
        version_table(versions_, backtests), hide_index=True, width="stretch", key="policy_versions_table",
        column_config={
            # headers capitalised like every other table; the frame keeps its plain keys
            **{key: st.column_config.TextColumn(key.capitalize()) for key in
               ("version", "state", "effective", "last changed by", "changed at", "latest backtest")},
            "returns": st.column_config.NumberColumn("Returns"),
            "impact score": st.column_config.ProgressColumn(
                "Impact score", min_value=0, max_value=100, format="%.1f",
                help="0–100; empty while no return used the version. Formula under “How metrics are computed”."),
        },
    )
    computed = [v.metrics_computed_at for v in versions_ if v.metrics_computed_at]
    if len(computed) < len(versions_):
        st.caption("Impact scores and return counts are not computed yet for every version: the background worker "
                   "computes them within a minute (`make run` starts it beside the console).")
    else:
        st.caption(f"Impact scores and return counts as of {fmt.when(min(computed))}; the background worker "
                   f"recomputes them every {int(STALE_AFTER.total_seconds() // 60)} minutes.")


def show_metrics_doc() -> None:
    with st.expander("How metrics are computed"):
        st.markdown(METRICS_DOC)


def label(v: PolicyVersion) -> str:
    return f"{v.version} · {v.state}"


def pick_version(versions_: list[PolicyVersion]) -> PolicyVersion:
    """The Version selector: after an action the version it chose, else a ``?version=`` link, else the active one."""
    by_id = {v.id: v for v in versions_}
    if SELECT_NEXT in st.session_state:
        st.session_state[SELECTED] = st.session_state.pop(SELECT_NEXT)
    wanted = st.session_state.get(SELECTED)
    if wanted not in by_id:
        from_link = st.query_params.get("version")
        active = next((v.id for v in versions_ if v.state == "active"), versions_[0].id)
        wanted = int(from_link) if from_link and from_link.isdigit() and int(from_link) in by_id else active
        st.session_state[SELECTED] = wanted
    selected_id = st.selectbox("Version", list(by_id), key=SELECTED, format_func=lambda i: label(by_id[i]))
    return by_id[selected_id]
