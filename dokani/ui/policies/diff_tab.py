"""The Diff tab: two versions' rules field by field (by default the active version against the chosen one)."""
from __future__ import annotations

import streamlit as st

from dokani.policies.diff import diff_frame
from dokani.policies.versions import PolicyVersion
from dokani.ui.policies.listing import label


def show_diff_tab(version: PolicyVersion, versions: list[PolicyVersion]) -> None:
    by_id = {v.id: v for v in versions}
    ids = list(by_id)
    c = st.columns(2)
    # Compare with the active version; the active one itself with the newest other version.
    others = [v for v in versions if v.id != version.id]
    base = next((v for v in others if v.state == "active"), others[0] if others else version)
    left = c[0].selectbox("Left", ids, index=ids.index(base.id), key=f"diff_left_{version.id}",
                          format_func=lambda i: label(by_id[i]))
    right = c[1].selectbox("Right", ids, index=ids.index(version.id), key=f"diff_right_{version.id}",
                           format_func=lambda i: label(by_id[i]))
    same_too = st.checkbox("Show unchanged fields too", key="diff_same")
    if left == right:
        st.caption("Pick two different versions to compare.")
        return
    frame = diff_frame(by_id[left].rules, by_id[right].rules, by_id[left].version, by_id[right].version,
                       include_same=same_too)
    if frame.empty:
        st.info("No differences: the two versions have the same rules.")
    else:
        changed = int((frame["change"] != "same").sum())
        st.caption(f"{changed} field(s) differ.")
        st.dataframe(frame, hide_index=True, width="stretch", key="diff_table")
