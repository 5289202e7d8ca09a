"""Policies: return-policy versions — draft, validate, diff, backtest, activate (now or later), roll back."""
import streamlit as st

from dokani.ui.context import current_actor
from dokani.ui.policies.activate_tab import show_activate_tab
from dokani.ui.policies.actions import show_flash
from dokani.ui.policies.backtest import show_backtest_tab
from dokani.ui.policies.diff_tab import show_diff_tab
from dokani.ui.policies.history_tab import show_history_tab
from dokani.ui.policies.listing import (can_edit, offer_first_draft, pick_version, read_policies, show_metrics_doc,
                                        show_notes, show_versions)
from dokani.ui.policies.rules_tab import show_rules_tab

actor = current_actor()
st.title("Policy versions")
view = read_policies(actor)
show_flash()
show_notes(actor, view.applied)
if not view.versions:
    offer_first_draft(actor)
    st.stop()

show_versions(view.versions, view.backtests)
show_metrics_doc()
version = pick_version(view.versions)

# keyed, so the open tab survives the rerun after an action (a backtest, a save, an activation)
rules_tab, diff_tab, backtest_tab, activate_tab, history_tab = st.tabs(
    ["Rules", "Diff", "Backtest", "Activate", "History"], key="policy_tab", on_change="rerun")
with rules_tab:
    show_rules_tab(actor, version, can_edit(actor))
with diff_tab:
    show_diff_tab(version, view.versions)
with backtest_tab:
    show_backtest_tab(actor, version, view.versions, view.backtests)
with activate_tab:
    show_activate_tab(actor, version, view.versions, can_edit(actor))
with history_tab:
    show_history_tab(actor, version, view.versions)
