"""The Backtest tab: choose a period and a baseline, queue the backtest as a job, follow it live, show what would
change."""
from __future__ import annotations

from datetime import datetime, time, timedelta

import pandas as pd
import streamlit as st

from dokani.errors import DokaniError
from dokani.jobs import enqueue
from dokani.policies import backtest
from dokani.policies.backtest import OUTCOMES, BacktestResult
from dokani.policies.versions import PolicyVersion
from dokani.ui import charts
from dokani.ui import format as fmt
from dokani.ui.errors import show_domain_error
from dokani.ui.jobs.panel import show_job
from dokani.ui.policies.actions import md

PERIODS = {"Last 30 days": 30, "Last 90 days": 90, "Last 12 months": 365, "All past returns": None, "Custom dates": -1}
DEFAULT_PERIOD = "Last 90 days"  # a large business replays ~150k returns a month: about 10 s each


def show_backtest_tab(actor, version: PolicyVersion, versions: list[PolicyVersion],
                      backtests: dict[int, BacktestResult]) -> None:
    st.caption("Replay this version over past returns with the same triage engine the queue uses, and compare "
               "each outcome with another version's. The replay runs on a background worker: leave the page or "
               "keep working, the result is stored when it finishes.")
    run_controls(actor, version, versions)
    show_backtest_job(actor, version)
    result = backtests.get(version.id)
    if result is None:
        st.info("This version has not been backtested yet.")
    else:
        show_result(result)


def run_controls(actor, version: PolicyVersion, versions: list[PolicyVersion]) -> None:
    """Period, baseline and a Run button that queues the backtest as a background job."""
    c = st.columns([2, 2, 1])
    choice = c[0].selectbox("Returns to replay", list(PERIODS), index=list(PERIODS).index(DEFAULT_PERIOD),
                            key="bt_period", help="returns created in this period, by their request date; "
                                                  "“All past returns” replays every return of the business")
    since = until = None
    days = PERIODS[choice]
    if days == -1:
        today = datetime.now().date()
        picked = c[0].date_input("From – to", value=(today - timedelta(days=90), today), key="bt_dates")
        if isinstance(picked, (list, tuple)) and len(picked) == 2:
            since, until = datetime.combine(picked[0], time.min), datetime.combine(picked[1], time.max)
    elif days:
        since = datetime.now() - timedelta(days=days)
    baseline = _pick_baseline(c[1], version, versions)
    if baseline is None:
        return
    c[2].write("")
    if not c[2].button("Run backtest", key="bt_run", type="primary"):
        return
    try:
        job, created = enqueue.queue_backtest(actor, version.id, version_name=version.version,
                                              baseline_policy_id=baseline.id, since=since, until=until)
    except DokaniError as err:
        show_domain_error(err)
        return
    if not created and job.live:
        st.info(f"A backtest of {md(version.version)} is already {job.state}; its progress shows below.")


def show_backtest_job(actor, version: PolicyVersion) -> None:
    """The latest backtest job of this version: live progress while queued or running, why it failed (with a
    retry), a message once when it ends (the stored result shows below)."""
    show_job(actor, "backtest", enqueue.backtest_lock(version.id), unit="returns replayed",
             done_message=lambda job: f"Backtest stored: {job.result.get('outcomes_changed', 0):,} of "
                                      f"{job.result.get('returns_evaluated', 0):,} outcomes change.")


def _pick_baseline(column, version: PolicyVersion, versions: list[PolicyVersion]) -> PolicyVersion | None:
    """"Compare with": any other version, by default the active one (``backtest.default_baseline``). Keyed by
    the version under test and that default, so switching versions, or a new active version, starts from it."""
    others = {v.id: v for v in versions if v.id != version.id}
    if not others:
        st.info("There is no other version to compare with yet.")
        return None
    ids = list(others)
    default = backtest.default_baseline(versions, version.id)
    chosen = column.selectbox("Compare with", ids, index=ids.index(default) if default in others else 0,
                              key=f"bt_baseline_{version.id}_{default}",
                              format_func=lambda i: f"{others[i].version} ({others[i].state})")
    return others[chosen]


def show_result(result: BacktestResult) -> None:
    when = fmt.when(result.created_at) if result.created_at else "just now"
    period = ("all past returns" if result.period_start is None and result.period_end is None else
              f"{fmt.when(result.period_start) if result.period_start else 'the start'} – "
              f"{fmt.when(result.period_end) if result.period_end else 'now'}")
    st.caption(f"{md(result.policy_version)} compared with {md(result.baseline_version)} over {period}; "
               f"run {when} by {md(result.created_by_email or 'unknown')}.")
    if result.returns_evaluated == 0:
        st.info("No returns in this period, so nothing could be replayed. Choose a longer period.")
        return
    _show_figures(result)
    _show_outcomes(result)
    if result.flips:
        _show_flips(result)
    elif result.outcomes_changed == 0:
        st.caption("No return changes outcome between the two versions over this period.")


def _show_figures(result: BacktestResult) -> None:
    m = st.columns(4)
    m[0].metric("Returns replayed", fmt.number(result.returns_evaluated))
    m[1].metric("Outcomes that change", fmt.number(result.outcomes_changed),
                help="returns whose engine outcome (approve / deny / review) differs between the two versions")
    change = result.refund_value_change
    m[2].metric("Refund value change", f"{'+' if change >= 0 else '−'}{fmt.money(abs(change))}",
                help="Σ (refund under this version − refund under the baseline); a refund is order value × "
                     "(1 − restocking fee %) when the engine approves automatically, else 0")
    m[3].metric("Differs from recorded decisions", fmt.share(
        result.disagree_with_recorded / result.recorded_decisions if result.recorded_decisions else None),
        help=f"of {result.recorded_decisions} returns that were approved or denied")


def _show_outcomes(result: BacktestResult) -> None:
    left, right = st.columns([3, 2])
    with left:
        fig = charts.grouped_bars(OUTCOMES, {
            result.baseline_version: [result.before_counts.get(o, 0) for o in OUTCOMES],
            result.policy_version: [result.after_counts.get(o, 0) for o in OUTCOMES],
        }, y_title="returns", height=300, layout=charts.TIGHT)
        st.plotly_chart(fig, width="stretch", key="bt_chart")
    with right:
        st.markdown("**Changes, both ways**")
        if result.transitions:
            st.dataframe(pd.DataFrame([{"from → to": k, "returns": v} for k, v in result.transitions.items()]),
                         hide_index=True, width="stretch")
        else:
            st.caption("No outcome changes.")


def _show_flips(result: BacktestResult) -> None:
    shown = len(result.flips)
    st.markdown(f"**Returns that flip** ({'all ' if shown == result.outcomes_changed else ''}{shown:,}"
                f"{'' if shown == result.outcomes_changed else f' of {result.outcomes_changed:,}, the earliest'})")
    flips = pd.DataFrame([f.model_dump() for f in result.flips])
    st.dataframe(
        flips[["review_link", "order_id", "created_at", "category", "order_value", "before", "after", "refund_change"]],
        hide_index=True, width="stretch", key="bt_flips",
        column_config={
            "review_link": st.column_config.LinkColumn("review", display_text="open", width="small",
                                                       help="open the return in the review panel"),
            "order_id": st.column_config.TextColumn("order"),
            "created_at": st.column_config.DatetimeColumn("requested", format="YYYY-MM-DD"),
            "order_value": st.column_config.NumberColumn("order value", format="$%.2f"),
            "before": st.column_config.TextColumn(f"under {result.baseline_version}"),
            "after": st.column_config.TextColumn(f"under {result.policy_version}"),
            "refund_change": st.column_config.NumberColumn("refund change ($)", format="%+.2f"),
        },
    )
