"""The overview's figures for a period: read in one unit of work, shown as tiles with the period before beside
them; every tile links to the view behind it with the same filters.

What the page reads is kept for a few seconds per person (``OVERVIEW_TTL_S``; the actor is in the cache key, so never
across people or businesses), and read again at once after this person's own decisions (the queue's generation)."""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from db.engine import read_engine, read_url
from db.uow import Actor, unit_of_work
from dokani.analytics import agreement as people_vs_ai
from dokani.analytics import kpis as analytics
from dokani.analytics.activity import Activity, activity
from dokani.analytics.agreement import Agreement, RuleOverrides
from dokani.analytics.kpis import MIN_DECISIONS, Period, Rate, ReturnKpis
from dokani.returns import queue
from dokani.returns.queue import QueueKpis
from dokani.returns.status import NEEDS_DECISION
from dokani.ui import format as fmt
from dokani.ui.accounts import preferences
from dokani.ui.analytics.links import DECIDED, link, returns_link
from dokani.ui.period import period_label
from dokani.ui.returns.state import QUEUE_GENERATION

OVERVIEW_TTL_S = 5


@dataclass
class OverviewFigures:
    kpis: ReturnKpis
    before: ReturnKpis  # the same figures for the period just before
    workload: QueueKpis  # waiting and overdue now: the Returns page's own figures
    per_day: pd.DataFrame
    by_category: pd.DataFrame
    agreement: Agreement
    overrides: RuleOverrides
    weekly: pd.DataFrame
    activity: Activity


def review_sla_hours() -> float:
    """The review SLA the Returns page uses in this session (the person's setting, or what they typed there)."""
    return float(st.session_state.get("returns_sla_hours") or preferences.current().review_sla_hours)


def read_overview(actor: Actor, period: Period, sla_hours: float | None = None) -> OverviewFigures:
    """The overview's figures, kept for ``OVERVIEW_TTL_S`` seconds per person, period, SLA and database."""
    return _cached_overview(actor, period, sla_hours or review_sla_hours(), st.session_state.get(QUEUE_GENERATION, 0),
                            read_url())


@st.cache_data(ttl=OVERVIEW_TTL_S, show_spinner=False, max_entries=1000)
def _cached_overview(actor: Actor, period: Period, sla_hours: float, generation: int, database: str) -> OverviewFigures:
    return read_overview_now(actor, period, sla_hours)


def read_overview_now(actor: Actor, period: Period, sla_hours: float) -> OverviewFigures:
    with unit_of_work(actor, read_engine()) as uow:  # read-only: a replica when DATABASE_READ_URL is set
        kpis, before = analytics.compared_kpis(uow, period)
        return OverviewFigures(
            kpis, before, queue.queue_kpis(uow, sla_hours), analytics.returns_per_day(uow, period),
            analytics.returns_by_category(uow, period), people_vs_ai.agreement(uow, period),
            people_vs_ai.rule_overrides(uow, period), people_vs_ai.weekly_trend(uow, period), activity(uow, period),
        )


def rate_value(rate: Rate | None) -> str:
    return fmt.NO_DATA if rate is None or rate.value is None else f"{rate.value:.0%}"


def rate_caption(rate: Rate, of: str) -> str:
    """How many rows are behind a rate, and the small-sample mark."""
    if rate.n == 0:
        return f"no {of} in this period"
    text = f"{rate.hits:,} of {rate.n:,} {of}"
    if rate.small_sample:
        text += f" · small sample (fewer than {MIN_DECISIONS})"
    return text


def _rate_delta(now: Rate, then: Rate) -> str | None:
    return fmt.delta(now.value, then.value, "share")


def show_kpis(f: OverviewFigures, period: Period) -> None:
    k, b = f.kpis, f.before
    days = (period.end - period.start).days
    st.caption(f"Returns asked {period.first_day} to {period.last_day} (UTC); arrows compare with the {days} days "
               f"before. Every figure links to the rows it counts.")
    c = st.columns(4)
    with c[0]:
        st.metric("Return requests", fmt.number(k.opened), fmt.delta(k.opened, b.opened), delta_color="off")
        returns_link("Show these returns", period, statuses=[])
    with c[1]:
        st.metric("Decided", fmt.number(k.decided), fmt.delta(k.decided, b.decided), delta_color="off",
                  help="approved, denied or completed, of the returns asked in the period")
        returns_link("Show decided returns", period, statuses=DECIDED)
    with c[2]:
        st.metric("Approval rate", rate_value(k.approval), _rate_delta(k.approval, b.approval), delta_color="off",
                  help="approved or completed ÷ decided")
        st.caption(rate_caption(k.approval, "decided"))
        returns_link("Show approved returns", period, statuses=["approved", "completed"])
    with c[3]:
        st.metric("Denial rate", rate_value(k.denial), _rate_delta(k.denial, b.denial), delta_color="off",
                  help="denied ÷ decided")
        st.caption(rate_caption(k.denial, "decided"))
        returns_link("Show denied returns", period, statuses=["denied"])
    c = st.columns(4)
    with c[0]:
        st.metric("Median time to decision", fmt.hours(k.median_hours_to_decision),
                  help="from the request to the decision (a person's, or the engine's), over decided returns")
        st.caption("90th percentile: " + fmt.hours(k.p90_hours_to_decision))
        returns_link("Show decided returns", period, statuses=DECIDED)
    with c[1]:
        st.metric("Refunded value", fmt.money(k.refunded_value), fmt.delta(k.refunded_value, b.refunded_value, "money"),
                  delta_color="off", help="order value of approved and completed returns")
        returns_link("Show refunded returns", period, statuses=["approved", "completed"])
    with c[2]:
        st.metric("Return rate", rate_value(k.return_rate), _rate_delta(k.return_rate, b.return_rate),
                  delta_color="off", help="of the orders placed in the period (mock_orders), the share with a return")
        st.caption(rate_caption(k.return_rate, "orders placed") if k.orders else "no orders placed in this period")
    w = f.workload
    with c[3]:
        st.metric("Waiting for a decision", fmt.number(w.waiting), help="needs review or escalated, now: the Returns "
                  "page's figure")
        returns_link("Open the queue", None, statuses=list(NEEDS_DECISION), sla_hours=w.sla_hours)
    c = st.columns(4)
    with c[0]:
        st.metric(f"Overdue (> {w.sla_hours:g} h)", fmt.number(w.overdue), help="waiting longer than the review SLA")
        returns_link("Show overdue returns", None, statuses=list(NEEDS_DECISION), sla_states=["overdue"],
                     sla_hours=w.sla_hours)
    a = f.agreement.overall
    with c[1]:
        st.metric("Agreement with the AI", rate_value(a), help="people's decisions that matched the AI's approve or "
                  "deny recommendation (human-review recommendations push no outcome)")
        st.caption(rate_caption(a, "decisions by a person where the AI pushed an outcome"))
        returns_link("Show decisions by a person", period, statuses=DECIDED, decided_by_person=True,
                     recommendations=["auto_approve", "auto_deny"])
    with c[2]:
        st.metric("Open security events", fmt.number(f.activity.open_security_events), help="unresolved, now")
        link("Open the Risk page", "views/risk.py")
    _activity(f.activity, period)


def _activity(act: Activity, period: Period) -> None:
    c = st.columns(4)
    with c[0]:
        st.metric("Persona suite pass rate", rate_value(act.suite_pass), help="scenario results run in the period")
        st.caption(rate_caption(act.suite_pass, "scenario results"))
        link("Open the Chat test lab", "views/chat.py")
    calls_page = {"period": period_label(period) or ""}
    with c[1]:
        st.metric("Call success rate", rate_value(act.call_success),
                  help="calls the provider judged successful ÷ calls it evaluated, started in the period")
        st.caption(rate_caption(act.call_success, "evaluated calls"))
        link("Show successful calls", "views/calls.py", {**calls_page, "evaluation": "successful"})
    with c[2]:
        if act.calls_linked is None:
            st.metric("Calls linked to a return", "not available",
                      help="the database does not link calls to returns")
            st.caption("not available: calls are not linked to returns in this database")
        else:
            st.metric("Calls linked to a return", rate_value(act.calls_linked),
                      help="calls of the period linked to the return they were about")
            st.caption(rate_caption(act.calls_linked, "calls"))
            link("Open the Calls page", "views/calls.py", calls_page)
