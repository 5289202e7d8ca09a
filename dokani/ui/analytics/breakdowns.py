"""The overview's breakdowns: returns per day by status, by category, and people vs. the AI (agreement by
recommendation, override rate by rule, the weekly trend). Each segment links to the queue rows it counts."""
from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from dokani.analytics.agreement import Agreement, RuleOverrides
from dokani.analytics.kpis import MIN_DECISIONS, Period
from dokani.returns.status import label
from dokani.ui import format as fmt
from dokani.ui.charts import TIGHT_UNTITLED_LEGEND, bar
from dokani.ui.text import md
from dokani.ui.analytics.kpis import rate_caption, rate_value
from dokani.ui.analytics.links import DECIDED, RETURNS_PAGE, link, returns_link, returns_query, returns_url

NO_RETURNS = "No returns in this period."
AI_SAYS = {"auto_approve": "AI said approve", "auto_deny": "AI said deny", "human_review": "AI asked a person"}
AGAINST = {"approve": ["denied"], "deny": ["approved", "completed"]}


def show_breakdowns(per_day: pd.DataFrame, by_category: pd.DataFrame, period: Period) -> None:
    left, right = st.columns([3, 2])
    with left:
        st.subheader("Returns per day")
        if per_day.empty:
            st.caption(NO_RETURNS)
        else:
            fig = bar(per_day, "day", "returns", "status", height=320, custom=["status"],
                      color_map=fmt.STATUS_COLORS, order=fmt.STATUS_ORDER,
                      layout=TIGHT_UNTITLED_LEGEND)
            event = st.plotly_chart(fig, width="stretch", on_select="rerun", selection_mode="points",
                                    key="overview_per_day")
            _open_selected_day(event, period)
            st.caption("Click a bar segment to open that day's returns in that status, or:")
            totals = per_day.groupby("status", sort=False)["returns"].sum()
            cols = st.columns(min(3, len(totals)))
            for i, (status, n) in enumerate(totals.items()):
                with cols[i % len(cols)]:
                    returns_link(f"{md(label(status))}: {n:,}", period, statuses=[status])  # statuses are data
    with right:
        st.subheader("By category")
        if by_category.empty:
            st.caption(NO_RETURNS)
        else:
            frame = by_category.copy()
            frame["open"] = [returns_url(period, statuses=[], categories=[c]) if c != "unknown" else None
                             for c in frame["category"]]
            st.dataframe(frame, hide_index=True, width="stretch", column_config={
                "value": st.column_config.NumberColumn("order value", format="dollar"),
                "open": st.column_config.LinkColumn("Open", display_text="Show ↗"),
            })


def _open_selected_day(event, period: Period) -> None:
    points = (getattr(getattr(event, "selection", None), "points", None) or []) if event else []
    if not points:
        return
    point = points[0]
    day = str(point.get("x", ""))[:10]
    status = (point.get("customdata") or [None])[0]
    try:
        chosen = date.fromisoformat(day)
    except ValueError:
        return
    fields = {"created_from": chosen, "created_to": chosen, "statuses": [status] if status else []}
    st.switch_page(RETURNS_PAGE, query_params=returns_query(None, **fields))


def show_people_vs_ai(agreement: Agreement, overrides: RuleOverrides, weekly: pd.DataFrame, period: Period) -> None:
    st.subheader("People vs. the AI")
    if agreement.person_decisions == 0:
        st.info("No return asked in this period was decided by a person yet: no agreement or override figures.")
        return
    st.caption(f"{agreement.person_decisions:,} decisions by a person on returns asked in this period. Rates over "
               f"fewer than {MIN_DECISIONS} decisions are marked as a small sample.")
    left, right = st.columns(2)
    with left:
        st.markdown("**Agreement by recommendation**")
        rows = []
        for r in agreement.by_recommendation:
            rows.append({"recommendation": AI_SAYS[r.recommendation], "people approved": r.approved,
                         "people denied": r.denied, "decisions": r.decisions,
                         "agreement": "no outcome pushed" if r.agreement is None else rate_value(r.agreement),
                         "small sample": bool(r.agreement and r.agreement.small_sample),
                         "open": returns_url(period, statuses=DECIDED, decided_by_person=True,
                                             recommendations=[r.recommendation]) if r.decisions else None})
        frame = pd.DataFrame(rows)
        chart = frame.melt(id_vars="recommendation", value_vars=["people approved", "people denied"],
                           var_name="decision", value_name="returns")
        fig = bar(chart, "recommendation", "returns", "decision", height=260,
                  color_map={"people approved": fmt.STATUS_COLORS["approved"],
                             "people denied": fmt.STATUS_COLORS["denied"]},
                  layout=TIGHT_UNTITLED_LEGEND)
        st.plotly_chart(fig, width="stretch", key="overview_agreement")
        st.dataframe(frame, hide_index=True, width="stretch",
                     column_config={"open": st.column_config.LinkColumn("Open", display_text="Show ↗")})
    with right:
        st.markdown("**Override rate by rule**")
        _overrides(overrides, period)
    st.markdown("**Agreement per week**")
    _weekly(weekly)


def _overrides(o: RuleOverrides, period: Period) -> None:
    if o.untraced_decisions:
        st.caption(f"{o.untraced_decisions:,} of the decisions have no stored rule trace (triaged before the engine "
                   "kept one, or imported): they count for agreement, not here.")
    if not o.rules:
        st.caption("No decision by a person on a return whose rule trace pushed an outcome.")
        return
    rows = [{"rule": r.rule, "clause": r.outcome, "pushed": r.pushed, "decisions": r.overrides.n,
             "overrode": r.overrides.hits, "override rate": rate_value(r.overrides),
             "small sample": r.overrides.small_sample,
             "open": returns_url(period, statuses=AGAINST[r.pushed], decided_by_person=True,
                                 rule_trace=[f"{r.rule}:{r.outcome}"]) if r.overrides.hits and _linkable(r.rule) else None}
            for r in o.rules]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", column_config={
        "open": st.column_config.LinkColumn("Overrides", display_text="Show ↗",
                                            help="the decisions that went against the rule"),
    })
    link("Open the policy rules behind these clauses", "views/policies.py")
    top = o.rules[0]
    if top.overrides.hits and _linkable(top.rule):
        returns_link(f"Show the overrides of {md(top.rule)} ({rate_caption(top.overrides, 'decisions')})", period,
                     statuses=AGAINST[top.pushed], decided_by_person=True, rule_trace=[f"{top.rule}:{top.outcome}"])


def _linkable(rule: str) -> bool:
    """A rule name a queue link can carry (see ``dokani.returns.filters.RULE_TRACE``)."""
    return 0 < len(rule) <= 100 and "," not in rule


def _weekly(weekly: pd.DataFrame) -> None:
    if weekly.empty or not weekly["decisions"].any():
        st.caption("No decisions by a person in these weeks.")
        return
    frame = weekly.copy()
    frame["agreement %"] = [None if a is None or pd.isna(a) else round(100 * a, 1) for a in frame["agreement"]]
    fig = bar(frame, "week", "decisions", height=240, hover=["pushed", "agreed", "overrode", "small_sample"],
              layout={"margin": {"l": 0, "r": 0, "t": 30, "b": 0},
                      "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
                      "yaxis2": {"overlaying": "y", "side": "right", "range": [0, 105], "showgrid": False,
                                 "tickmode": "array", "tickvals": [0, 25, 50, 75, 100],
                                 "ticktext": ["0%", "25%", "50%", "75%", "100%"]}})
    fig.add_line(frame["week"], frame["agreement %"], "agreement %", yaxis="y2")
    st.plotly_chart(fig, width="stretch", key="overview_weekly")
