"""What the benchmark measures: the service calls behind each page, as the busiest demo business."""
from __future__ import annotations

from typing import Callable, Iterator

from db.demo import business, user
from db.uow import Actor, UnitOfWork, unit_of_work


def _actor() -> Actor:
    u = user("atlas", "owner")
    return Actor(user_id=u.user_id, business_id=business("atlas").business_id, role="owner", email=u.email)


def _in_uow(call: Callable) -> Callable[[], object]:
    def run():
        with unit_of_work(_actor()) as uow:
            return call(uow)

    return run


class _RolledBack(UnitOfWork):
    """Runs a write-back service in full (its SQL, its audit rows), then discards it: the bench stays the same."""

    def commit(self) -> None:
        self.session.flush()


def _decided_and_rolled_back(call: Callable) -> Callable[[], object]:
    def run():
        uow = _RolledBack(_actor())
        try:
            return call(uow)
        finally:
            uow.rollback()
            uow.close()

    return run


def _waiting(n: int) -> list:
    from sqlalchemy import text

    from dokani.returns.decisions import SeenReturn

    with unit_of_work(_actor()) as uow:
        rows = uow.session.execute(text(
            "SELECT id, CAST(xmin AS text) FROM return_requests WHERE business_id = :b AND NOT is_test "
            "AND status = 'pending_review' ORDER BY id LIMIT :n"), {"b": business("atlas").business_id, "n": n}).all()
    return [SeenReturn(id=i, version=v) for i, v in rows]


def _drain(chunks) -> int:
    return sum(len(c) for c in chunks)


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


def _returns_since(since) -> int:
    from dokani.triage.facts import count_returns

    with unit_of_work(_actor()) as uow:
        return count_returns(uow.session, business("atlas").business_id, since=since)


def _customers_of_atlas() -> int:
    """The customers a recompute scores: everyone with a return, a risk profile or a security event there."""
    from sqlalchemy import text

    with unit_of_work(_actor()) as uow:
        return int(uow.session.execute(
            text("SELECT count(*) FROM (SELECT customer_email FROM return_requests WHERE business_id = :b "
                 "AND NOT is_test UNION SELECT customer_email FROM customer_risk_profiles WHERE business_id = :b "
                 "UNION SELECT customer_email FROM security_events WHERE business_id = :b) c"),
            {"b": business("atlas").business_id}).scalar())


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
    from dokani.returns import decisions

    one = _waiting(1)[0]
    yield "returns: one decision with audit", _decided_and_rolled_back(
        lambda u: decisions.decide_return(u, one.id, "approve", expected_version=one.version))
    thousand = _waiting(1000)
    yield "returns: bulk approve of 1,000", _decided_and_rolled_back(
        lambda u: decisions.decide_returns(u, thousand, "approve"))
    yield "returns: CSV export of every return (streamed)", _in_uow(
        lambda u: _drain(queue.iter_csv(u, ReturnQueueFilter(statuses=[]))))
    public_id = _first_pending_public_id()
    yield "returns: review panel detail", _in_uow(lambda u: return_detail(u, public_id))
    policy_id = _active_policy_id()
    # Target: a backtest over at least 100,000 returns in 3 s; the period is widened until it holds that many.
    days, replayed = 30, 0
    while True:
        since = datetime.utcnow() - timedelta(days=days)
        replayed = _returns_since(since)
        if replayed >= 100_000 or days >= 3650:
            break
        days *= 2
    yield f"policies: backtest last {days} days ({replayed:,} returns, no store)", _in_uow(
        lambda u: backtest.backtest_policy(u, policy_id, since=since, store=False))

    # The overview's own periods: whole calendar days up to today ("Last 12 months" on its period picker), which
    # read the maintained daily summaries; a period that starts mid-day would count the returns themselves.
    period = analytics.Period.whole_days(365)
    yield "overview: KPIs, 12 months and the 12 before", _in_uow(lambda u: analytics.compared_kpis(u, period))
    yield "overview: returns per day", _in_uow(lambda u: analytics.returns_per_day(u, period))
    yield "overview: by category", _in_uow(lambda u: analytics.returns_by_category(u, period))
    from dokani.analytics import agreement as people_vs_ai

    yield "overview: agreement with the AI", _in_uow(lambda u: people_vs_ai.agreement(u, period))
    yield "overview: override rate by rule", _in_uow(lambda u: people_vs_ai.rule_overrides(u, period))
    yield "overview: agreement per week", _in_uow(lambda u: people_vs_ai.weekly_trend(u, period))
    flt = calls.CallFilter(period=analytics.Period.last_days(365))  # the Calls page's "Last 12 months"
    yield "calls: summary", _in_uow(lambda u: calls.call_summary(u, flt))
    yield "calls: first page", _in_uow(lambda u: calls.list_calls(u, flt))
    yield "risk: overview", _in_uow(risk.risk_overview)
    yield "risk: riskiest customers, first page", _in_uow(lambda u: risk.risky_customers(u))
    yield "risk: customer search", _in_uow(lambda u: risk.risky_customers(u, search="smith"))
    # Every customer of the busiest business rescored in SQL (target: 100,000 customers in at most 5 s; the bench
    # seeds 100,000 customers per business). The first (warm-up) run writes the profiles; the timed runs compute
    # every customer's factors again and find nothing to change.
    from dokani.risk.scoring import recompute_business

    customers = _customers_of_atlas()
    yield f"risk: recompute all {customers:,} customers", _in_uow(recompute_business)
