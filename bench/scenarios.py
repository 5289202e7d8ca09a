"""What the benchmark measures: the service calls behind each page, as the busiest demo business."""
from __future__ import annotations

from typing import Callable, Iterator

from db.demo import business, user
from db.uow import Actor, unit_of_work


def _actor() -> Actor:
    u = user("atlas", "owner")
    return Actor(user_id=u.user_id, business_id=business("atlas").business_id, role="owner", email=u.email)


def _in_uow(call: Callable) -> Callable[[], object]:
    def run():
        with unit_of_work(_actor()) as uow:
            return call(uow)

    return run


def _first_pending_public_id() -> str:
    from dokani.returns import queue
    from dokani.returns.filters import ReturnQueueFilter

    with unit_of_work(_actor()) as uow:
        page = queue.queue_page(uow, ReturnQueueFilter(), page_size=1)
    return str(page.rows[0].public_id)


def _active_policy_id() -> int:
    from dokani.policies.rules import load_policy

    with unit_of_work(_actor()) as uow:
        return load_policy(uow.session, business("atlas").business_id).id


def scenarios() -> Iterator[tuple[str, Callable[[], object]]]:
    from datetime import datetime, timedelta

    from dokani.analytics import kpis as analytics
    from dokani.policies import backtest
    from dokani.calls import analytics as calls
    from dokani.returns import queue
    from dokani.returns.filters import ReturnQueueFilter
    from dokani.returns.review import return_detail
    from dokani.risk import profiles as risk

    flt = ReturnQueueFilter()
    yield "returns: queue first page (needs a decision)", _in_uow(lambda u: queue.queue_page(u, flt))
    everything = ReturnQueueFilter(statuses=[], sort="value")
    yield "returns: all statuses by value, first page", _in_uow(lambda u: queue.queue_page(u, everything))
    search = ReturnQueueFilter(statuses=[], search="smith")
    yield "returns: substring search (email)", _in_uow(lambda u: queue.queue_page(u, search))
    risky = ReturnQueueFilter(statuses=[], risk_bands=["high"], reasons=["damaged"], sort="risk")
    yield "returns: risk band + reason filter", _in_uow(lambda u: queue.queue_page(u, risky))
    yield "returns: KPI strip", _in_uow(lambda u: queue.queue_kpis(u))
    public_id = _first_pending_public_id()
    yield "returns: review panel detail", _in_uow(lambda u: return_detail(u, public_id))
    policy_id = _active_policy_id()
    since = datetime.utcnow() - timedelta(days=30)
    yield "policies: backtest last 30 days (no store)", _in_uow(
        lambda u: backtest.backtest_policy(u, policy_id, since=since, store=False))

    period = analytics.Period.last_days(365)
    yield "overview: KPIs, 12 months and the 12 before", _in_uow(lambda u: analytics.compared_kpis(u, period))
    yield "overview: returns per day", _in_uow(lambda u: analytics.returns_per_day(u, period))
    yield "overview: by category", _in_uow(lambda u: analytics.returns_by_category(u, period))
    from dokani.analytics import agreement as people_vs_ai

    yield "overview: agreement with the AI", _in_uow(lambda u: people_vs_ai.agreement(u, period))
    yield "overview: override rate by rule", _in_uow(lambda u: people_vs_ai.rule_overrides(u, period))
    yield "overview: agreement per week", _in_uow(lambda u: people_vs_ai.weekly_trend(u, period))
    flt = calls.CallFilter(period=period)
    yield "calls: summary", _in_uow(lambda u: calls.call_summary(u, flt))
    yield "calls: first page", _in_uow(lambda u: calls.list_calls(u, flt))
    yield "risk: overview", _in_uow(risk.risk_overview)
    yield "risk: riskiest customers, first page", _in_uow(lambda u: risk.risky_customers(u))
    yield "risk: customer search", _in_uow(lambda u: risk.risky_customers(u, search="smith"))
