"""Business KPIs for the overview page, aggregated in SQL under the tenant's row-level security.

Test returns opened in the chat test lab (``is_test``) never count.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
from pydantic import BaseModel
from sqlalchemy import text

from db.uow import UnitOfWork

DECIDED = ("approved", "denied", "completed")


class Period(BaseModel):
    start: datetime
    end: datetime

    @classmethod
    def last_days(cls, days: int, now: datetime | None = None) -> "Period":
        end = (now or datetime.utcnow()).replace(microsecond=0)
        return cls(start=end - timedelta(days=days), end=end)

    def previous(self) -> "Period":
        """The period of the same length just before this one (for deltas)."""
        return Period(start=self.start - (self.end - self.start), end=self.start)


class BusinessKpis(BaseModel):
    returns: int
    awaiting_decision: int
    decided: int
    approval_rate: float | None  # approved (incl. completed) / decided; None when nothing was decided
    auto_decided_share: float | None  # share of triaged returns the engine settled without a person
    refund_value: float  # order value of approved and completed returns
    value_at_stake: float  # order value of returns waiting for a decision
    median_processing_ms: float | None
    avg_satisfaction: float | None
    open_security_events: int
    calls: int


def business_kpis(uow: UnitOfWork, period: Period) -> BusinessKpis:
    return compared_kpis(uow, period)[0]


def compared_kpis(uow: UnitOfWork, period: Period) -> tuple[BusinessKpis, BusinessKpis]:
    """KPIs of `period` and of the period of the same length before it, in one scan of the returns."""
    before = period.previous()
    params = {"start": before.start, "split": period.start, "end": period.end}
    rows = {
        r.current: r
        for r in uow.session.execute(
            text(
                """
                SELECT created_at >= :split AS current,
                       count(*) AS returns,
                       count(*) FILTER (WHERE status IN ('pending_triage', 'pending_review', 'escalated')) AS waiting,
                       count(*) FILTER (WHERE status IN ('approved', 'denied', 'completed')) AS decided,
                       count(*) FILTER (WHERE status IN ('approved', 'completed')) AS approved,
                       count(*) FILTER (WHERE ai_recommendation IS NOT NULL) AS triaged,
                       count(*) FILTER (WHERE ai_recommendation IN ('auto_approve', 'auto_deny')) AS auto_decided,
                       coalesce(sum(order_value) FILTER (WHERE status IN ('approved', 'completed')), 0) AS refund_value,
                       coalesce(sum(order_value) FILTER (WHERE status IN ('pending_triage', 'pending_review', 'escalated')), 0)
                         AS at_stake,
                       percentile_cont(0.5) WITHIN GROUP (ORDER BY processing_time_ms) AS median_ms,
                       avg(customer_satisfaction_score) AS satisfaction
                FROM return_requests
                WHERE created_at >= :start AND created_at < :end AND NOT is_test
                GROUP BY 1
                """
            ),
            params,
        )
    }
    calls = dict(
        uow.session.execute(
            text(
                "SELECT created_at >= :split, count(*) FROM call_sessions "
                "WHERE created_at >= :start AND created_at < :end GROUP BY 1"
            ),
            params,
        ).all()
    )
    # Open security events are a state, not a flow: the same figure for both periods.
    events = uow.session.execute(text("SELECT count(*) FROM security_events WHERE NOT coalesce(resolved, false)")).scalar()
    return _kpis(rows.get(True), calls.get(True, 0), events), _kpis(rows.get(False), calls.get(False, 0), events)


def _kpis(r, calls: int, events: int | None) -> BusinessKpis:
    if r is None:  # no return in the period
        return BusinessKpis(returns=0, awaiting_decision=0, decided=0, approval_rate=None, auto_decided_share=None,
                            refund_value=0.0, value_at_stake=0.0, median_processing_ms=None, avg_satisfaction=None,
                            open_security_events=int(events or 0), calls=int(calls or 0))
    return BusinessKpis(
        returns=r.returns,
        awaiting_decision=r.waiting,
        decided=r.decided,
        approval_rate=(r.approved / r.decided) if r.decided else None,
        auto_decided_share=(r.auto_decided / r.triaged) if r.triaged else None,
        refund_value=float(r.refund_value),
        value_at_stake=float(r.at_stake),
        median_processing_ms=float(r.median_ms) if r.median_ms is not None else None,
        avg_satisfaction=float(r.satisfaction) if r.satisfaction is not None else None,
        open_security_events=int(events or 0),
        calls=int(calls or 0),
    )


def returns_per_day(uow: UnitOfWork, period: Period) -> pd.DataFrame:
    """Returns created per day and status (for the trend chart)."""
    rows = uow.session.execute(
        text(
            """
            SELECT date_trunc('day', created_at)::date AS day, coalesce(status, 'unknown') AS status, count(*) AS returns
            FROM return_requests
            WHERE created_at >= :start AND created_at < :end AND NOT is_test
            GROUP BY 1, 2 ORDER BY 1, 2
            """
        ),
        {"start": period.start, "end": period.end},
    ).all()
    return pd.DataFrame(rows, columns=["day", "status", "returns"])


def returns_by_category(uow: UnitOfWork, period: Period) -> pd.DataFrame:
    rows = uow.session.execute(
        text(
            """
            SELECT coalesce(product_category, 'unknown') AS category, count(*) AS returns,
                   count(*) FILTER (WHERE status IN ('approved', 'completed')) AS approved,
                   coalesce(sum(order_value), 0)::float AS value
            FROM return_requests
            WHERE created_at >= :start AND created_at < :end AND NOT is_test
            GROUP BY 1 ORDER BY 2 DESC
            """
        ),
        {"start": period.start, "end": period.end},
    ).all()
    return pd.DataFrame(rows, columns=["category", "returns", "approved", "value"])


def recommendation_agreement(uow: UnitOfWork, period: Period) -> pd.DataFrame:
    """How often people agreed with the engine, per recommendation (decided returns only)."""
    rows = uow.session.execute(
        text(
            """
            SELECT ai_recommendation AS recommendation,
                   count(*) FILTER (WHERE status IN ('approved', 'completed')) AS approved,
                   count(*) FILTER (WHERE status = 'denied') AS denied
            FROM return_requests
            WHERE created_at >= :start AND created_at < :end AND NOT is_test
              AND ai_recommendation IS NOT NULL AND status IN ('approved', 'denied', 'completed')
            GROUP BY 1 ORDER BY 1
            """
        ),
        {"start": period.start, "end": period.end},
    ).all()
    return pd.DataFrame(rows, columns=["recommendation", "approved", "denied"])
