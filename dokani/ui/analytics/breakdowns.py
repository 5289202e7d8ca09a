"""The overview's breakdowns: returns per day by status, by category, and people vs. the AI."""
from __future__ import annotations

import pandas as pd
import plotly.express as px
import streamlit as st

from dokani.ui import format as fmt

NO_RETURNS = "No returns in this period."


def show_breakdowns(per_day: pd.DataFrame, by_category: pd.DataFrame, agreement: pd.DataFrame) -> None:
    left, right = st.columns([3, 2])
    with left:
        st.subheader("Returns per day")
        if per_day.empty:
            st.caption(NO_RETURNS)
        else:
            fig = px.bar(per_day, x="day", y="returns", color="status", height=320,
                         color_discrete_map=fmt.STATUS_COLORS, category_orders={"status": fmt.STATUS_ORDER})
            fig.update_layout(margin=dict(l=0, r=0, t=10, b=0), legend_title_text="")
            st.plotly_chart(fig, width="stretch")
    with right:
        st.subheader("By category")
        if by_category.empty:
            st.caption(NO_RETURNS)
        else:
            st.dataframe(by_category, hide_index=True, width="stretch",
                         column_config={"value": st.column_config.NumberColumn("order value", format="dollar")})
        st.subheader("People vs. the AI")
        if agreement.empty:
            st.caption("No decided returns with an AI recommendation in this period.")
        else:
            st.dataframe(agreement, hide_index=True, width="stretch")
