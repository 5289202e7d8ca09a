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


def scenarios() -> Iterator[tuple[str, Callable[[], object]]]:
    from dokani import analytics, calls, risk

    period = analytics.Period.last_days(365)
    yield "overview: business KPIs (12 months)", _in_uow(lambda u: analytics.business_kpis(u, period))
    yield "overview: returns per day", _in_uow(lambda u: analytics.returns_per_day(u, period))
    yield "overview: by category", _in_uow(lambda u: analytics.returns_by_category(u, period))
    flt = calls.CallFilter(period=period)
    yield "calls: summary", _in_uow(lambda u: calls.call_summary(u, flt))
    yield "calls: first page", _in_uow(lambda u: calls.list_calls(u, flt))
    yield "risk: overview", _in_uow(risk.risk_overview)
    yield "risk: riskiest customers, first page", _in_uow(lambda u: risk.risky_customers(u))
    yield "risk: customer search", _in_uow(lambda u: risk.risky_customers(u, search="smith"))
