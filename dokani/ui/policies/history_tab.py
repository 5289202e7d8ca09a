"""The History tab: every period a version was in force, its audit timeline, where it was drafted from, and its
usage and compliance."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from db.uow import unit_of_work
from dokani.policies import versions as policy_versions
from dokani.policies.versions import PolicyVersion
from dokani.ui import format as fmt
from dokani.ui.policies import editor
from dokani.ui.text import plain


HOW = {"activated": "activated", "scheduled": "took effect as scheduled", "rolled_back": "rolled back to",
       "recorded": "recorded (before the console kept history)"}


def show_history_tab(actor, version: PolicyVersion, versions: list[PolicyVersion]) -> None:
    _show_periods(version)
    with unit_of_work(actor) as uow:
        timeline = policy_versions.history(uow, version.id)
    st.markdown("**Changes**")
    if not timeline:
        st.caption("No recorded changes for this version: it was created before the audit trail (or imported).")
    else:
        st.dataframe(pd.DataFrame(timeline).iloc[::-1], hide_index=True, width="stretch", key="policy_history",
                     column_config={"when": st.column_config.DatetimeColumn("when", format="YYYY-MM-DD HH:mm")})
    by_id = {v.id: v for v in versions}
    if version.based_on_id and version.based_on_id in by_id:
        st.caption("Drafted from:")
        plain(by_id[version.based_on_id].version)
    _show_usage(version)


def periods_frame(version: PolicyVersion) -> pd.DataFrame:
    """Every period the version was in force, newest first, as the page shows them."""
    rows = [{"in force from": fmt.when(p.started_at), "until": fmt.when(p.ended_at) if p.ended_at else "now (active)",
             "how": HOW.get(p.how, p.how)} for p in reversed(version.periods)]
    return pd.DataFrame(rows, columns=["in force from", "until", "how"])


def _show_periods(version: PolicyVersion) -> None:
    st.markdown("**In force**")
    if not version.periods:
        st.caption("This version has never been in force.")
    else:
        st.dataframe(periods_frame(version), hide_index=True, width="stretch", key="policy_periods")


def _show_usage(version: PolicyVersion) -> None:
    st.markdown("**Usage and compliance** (from the returns triaged under this version)")
    if not (version.usage_statistics or {}).get("returns"):
        st.info("No return has been triaged under this version yet, so there are no usage or compliance figures. "
                "Backtest it to see what it would change.", icon=":material/info:")
        return
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
