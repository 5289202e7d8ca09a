"""The return KPIs of the overview for a period and the period of the same length before it, aggregated in SQL.

A period counts the returns *asked* in it (``created_at``), so each figure is exactly the rows the Returns queue
shows for the same dates (the drill-down links). Every query names the business explicitly as well as running
under the tenant's row-level security. Test returns opened in the chat test lab (``is_test``) never count.

Definitions:
- decided: approved, denied or completed; approval and denial rates are over the decided returns.
- time to decision: from ``created_at`` to the decision (a person's ``admin_decision_at``, else the engine's
  ``approved_at`` / ``denied_at``), over decided returns.
- refunded value: order value of approved and completed returns.
- return rate: of the orders placed in the period (``mock_orders.purchase_date``), the share with a live return
  at any time (keyed on order dates, as Loop and AfterShip report it).

Where a period is whole UTC days (the overview's, a snapshot's), the figures are sums of the summaries Postgres keeps
current in every writer's transaction (revision 0019: ``return_daily_summary``, ``order_daily_summary``) and the
time to decision reads ``return_decision_hours`` and the narrow ``return_decision_times``; any other period is recomputed from the returns
(``*_from_returns``, also what the tests compare the summaries with).
"""
from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta
from uuid import UUID

import pandas as pd
from pydantic import BaseModel, computed_field
from sqlalchemy import text

from db.uow import UnitOfWork
from dokani.returns.rows import acting_business

DECIDED = ("approved", "denied", "completed")
APPROVED = ("approved", "completed")
MIN_DECISIONS = 10  # a rate over fewer decisions than this is shown, but marked as a small sample

DECIDED_AT = ("CASE WHEN r.status = 'denied' THEN coalesce(r.admin_decision_at, r.denied_at) "
              "WHEN r.status IN ('approved', 'completed') THEN coalesce(r.admin_decision_at, r.approved_at) END")
HOURS_TO_DECISION = f"extract(epoch FROM ({DECIDED_AT}) - r.created_at) / 3600.0"


class Period(BaseModel):
    start: datetime
    end: datetime  # exclusive

    @classmethod
    def last_days(cls, days: int, now: datetime | None = None) -> "Period":
        end = (now or datetime.utcnow()).replace(microsecond=0)
        return cls(start=end - timedelta(days=days), end=end)

    @classmethod
    def whole_days(cls, days: int, today: date | None = None) -> "Period":
        """The last `days` calendar days (UTC) up to and including today: whole days, like the queue's date filter."""
        today = today or datetime.utcnow().date()
        end = datetime.combine(today + timedelta(days=1), time.min)
        return cls(start=end - timedelta(days=days), end=end)

    def previous(self) -> "Period":
        """The period of the same length just before this one (for deltas)."""
        return Period(start=self.start - (self.end - self.start), end=self.start)

    @property
    def first_day(self) -> date:
        return self.start.date()

    @property
    def last_day(self) -> date:
        """The last calendar day the period touches (inclusive, for date filters)."""
        return (self.end - timedelta(microseconds=1)).date()


class Rate(BaseModel):
    """`hits` of `n`: the figure and the number of rows behind it."""

    hits: int
    n: int

    @computed_field
    @property
    def value(self) -> float | None:
        return self.hits / self.n if self.n else None

    @computed_field
    @property
    def small_sample(self) -> bool:
        return 0 < self.n < MIN_DECISIONS


class ReturnKpis(BaseModel):
    opened: int
    decided: int
    approved: int
    denied: int
    approval: Rate
    denial: Rate
    median_hours_to_decision: float | None
    p90_hours_to_decision: float | None
    refunded_value: float
    orders: int  # placed in the period
    returned_orders: int  # of those, with a live return
    return_rate: Rate


def whole_days(period: Period) -> bool:
    """The period starts and ends on a UTC midnight: the daily summaries hold exactly its rows."""
    return period.start.time() == time.min and period.end.time() == time.min


def _day_params(uow: UnitOfWork, period: Period) -> dict:
    return {"b": _business(uow), "start_day": period.start.date(), "end_day": period.end.date()}


def compared_kpis(uow: UnitOfWork, period: Period) -> tuple[ReturnKpis, ReturnKpis]:
    """KPIs of `period` and of the period of the same length before it."""
    if not whole_days(period):
        return compared_kpis_from_returns(uow, period)
    before = period.previous()
    params = {**_day_params(uow, period), "start_day": before.start.date(), "split_day": period.start.date(),
              "end_day": period.end.date(), "start": before.start, "split": period.start, "end": period.end,
              "decided": list(DECIDED), "approved": list(APPROVED)}
    s = uow.session
    rows = {
        r.current: r
        for r in s.execute(
            text(
                """
                SELECT s.day >= :split_day AS current, sum(s.returns) AS opened,
                       coalesce(sum(s.returns) FILTER (WHERE s.status = ANY(:decided)), 0) AS decided,
                       coalesce(sum(s.returns) FILTER (WHERE s.status = ANY(:approved)), 0) AS approved,
                       coalesce(sum(s.returns) FILTER (WHERE s.status = 'denied'), 0) AS denied,
                       coalesce(sum(s.order_value) FILTER (WHERE s.status = ANY(:approved)), 0) AS refunded
                FROM return_daily_summary s
                WHERE s.business_id = :b AND s.day >= :start_day AND s.day < :end_day
                GROUP BY 1 HAVING sum(s.returns) > 0
                """
            ),
            params,
        )
    }
    times = {current: _hours_to_decision(uow, params, current) for current in (True, False)}
    orders = {
        r.current: r
        for r in s.execute(
            text(
                """
                SELECT o.day >= :split_day AS current, sum(o.orders) AS orders, sum(o.returned_orders) AS returned
                FROM order_daily_summary o
                WHERE o.business_id = :b AND o.day >= :start_day AND o.day < :end_day
                GROUP BY 1 HAVING sum(o.orders) > 0
                """
            ),
            params,
        )
    }
    return (_kpis(rows.get(True), orders.get(True), times.get(True)),
            _kpis(rows.get(False), orders.get(False), times.get(False)))


class _Times(BaseModel):
    median_h: float | None
    p90_h: float | None


def _percentile(values_at, n: int, q: float) -> float | None:
    """percentile_cont(q) over `n` sorted values, `values_at(rank)` giving the value of a rank (0 first), computed
    as Postgres does (the two ranks around q × (n - 1), interpolated in double precision)."""
    if n == 0:
        return None
    pos = q * (n - 1)
    first, second = math.floor(pos), math.ceil(pos)
    low = values_at(first)
    return low if second == first else low + (values_at(second) - low) * (pos - first)


def _hours_to_decision(uow: UnitOfWork, params: dict, current: bool) -> _Times:
    """Median and 90th percentile of the hours to decision of the returns asked in one half of the compared periods:
    the whole hour holding each rank comes from ``return_decision_hours``, that hour's exact values from
    ``return_decision_times`` (a covering index), so only those rows are sorted."""
    s = uow.session
    days = {"b": params["b"], "from": params["split_day"] if current else params["start_day"],
            "to": params["end_day"] if current else params["split_day"]}
    buckets = s.execute(
        text("SELECT h.bucket, sum(h.returns) AS n FROM return_decision_hours h "
             "WHERE h.business_id = :b AND h.day >= :from AND h.day < :to GROUP BY 1 HAVING sum(h.returns) > 0 "
             "ORDER BY 1"),
        days,
    ).all()
    total = sum(int(b.n) for b in buckets)
    read: dict[int, float] = {}

    def value_at(rank: int) -> float:
        if rank not in read:
            before = 0
            for bucket in buckets:
                if rank < before + int(bucket.n):
                    read[rank] = s.execute(
                        text("SELECT t.hours FROM return_decision_times t WHERE t.business_id = :b AND t.bucket = :k "
                             "AND t.created_at >= :from AND t.created_at < :to ORDER BY t.hours OFFSET :o LIMIT 1"),
                        {"b": days["b"], "k": bucket.bucket, "o": rank - before,
                         "from": params["split"] if current else params["start"],
                         "to": params["end"] if current else params["split"]},
                    ).scalar_one()
                    break
                before += int(bucket.n)
        return read[rank]

    return _Times(median_h=_percentile(value_at, total, 0.5), p90_h=_percentile(value_at, total, 0.9))


def compared_kpis_from_returns(uow: UnitOfWork, period: Period) -> tuple[ReturnKpis, ReturnKpis]:
    """The same KPIs recomputed from the returns and orders themselves (any period)."""
    business_id = _business(uow)
    before = period.previous()
    params = {"b": business_id, "start": before.start, "split": period.start, "end": period.end,
              "decided": list(DECIDED), "approved": list(APPROVED)}
    rows = {
        r.current: r
        for r in uow.session.execute(
            text(
                f"""
                SELECT r.created_at >= :split AS current,
                       count(*) AS opened,
                       count(*) FILTER (WHERE r.status = ANY(:decided)) AS decided,
                       count(*) FILTER (WHERE r.status = ANY(:approved)) AS approved,
                       count(*) FILTER (WHERE r.status = 'denied') AS denied,
                       percentile_cont(0.5) WITHIN GROUP (ORDER BY {HOURS_TO_DECISION}) AS median_h,
                       percentile_cont(0.9) WITHIN GROUP (ORDER BY {HOURS_TO_DECISION}) AS p90_h,
                       coalesce(sum(r.order_value) FILTER (WHERE r.status = ANY(:approved)), 0) AS refunded
                FROM return_requests r
                WHERE r.business_id = :b AND NOT r.is_test AND r.created_at >= :start AND r.created_at < :end
                GROUP BY 1
                """
            ),
            params,
        )
    }
    orders = {
        r.current: r
        for r in uow.session.execute(
            text(
                """
                SELECT o.purchase_date >= :split AS current, count(*) AS orders,
                       count(*) FILTER (WHERE EXISTS (
                         SELECT 1 FROM return_requests r
                         WHERE r.business_id = :b AND r.order_id = o.order_id AND NOT r.is_test)) AS returned
                FROM mock_orders o
                WHERE o.business_id = :b AND o.purchase_date >= :start AND o.purchase_date < :end
                GROUP BY 1
                """
            ),
            params,
        )
    }
    return (_kpis(rows.get(True), orders.get(True), rows.get(True)),
            _kpis(rows.get(False), orders.get(False), rows.get(False)))


def _kpis(r, o, t) -> ReturnKpis:
    opened = int(r.opened) if r else 0
    decided = int(r.decided) if r else 0
    approved = int(r.approved) if r else 0
    denied = int(r.denied) if r else 0
    n_orders = int(o.orders) if o else 0
    returned = int(o.returned) if o else 0
    return ReturnKpis(
        opened=opened, decided=decided, approved=approved, denied=denied,
        approval=Rate(hits=approved, n=decided), denial=Rate(hits=denied, n=decided),
        median_hours_to_decision=float(t.median_h) if t and t.median_h is not None else None,
        p90_hours_to_decision=float(t.p90_h) if t and t.p90_h is not None else None,
        refunded_value=float(r.refunded) if r else 0.0,
        orders=n_orders, returned_orders=returned, return_rate=Rate(hits=returned, n=n_orders),
    )


def _business(uow: UnitOfWork) -> UUID:
    return acting_business(uow)


def returns_per_day(uow: UnitOfWork, period: Period) -> pd.DataFrame:
    """Returns asked per day and status (for the trend chart)."""
    if not whole_days(period):
        return returns_per_day_from_returns(uow, period)
    rows = uow.session.execute(
        text(
            """
            SELECT s.day, coalesce(s.status, 'unknown') AS status, sum(s.returns)::bigint AS returns
            FROM return_daily_summary s
            WHERE s.business_id = :b AND s.day >= :start_day AND s.day < :end_day
            GROUP BY 1, 2 HAVING sum(s.returns) > 0 ORDER BY 1, 2
            """
        ),
        _day_params(uow, period),
    ).all()
    return pd.DataFrame(rows, columns=["day", "status", "returns"])


def returns_per_day_from_returns(uow: UnitOfWork, period: Period) -> pd.DataFrame:
    rows = uow.session.execute(
        text(
            """
            SELECT date_trunc('day', r.created_at)::date AS day, coalesce(r.status, 'unknown') AS status,
                   count(*) AS returns
            FROM return_requests r
            WHERE r.business_id = :b AND r.created_at >= :start AND r.created_at < :end AND NOT r.is_test
            GROUP BY 1, 2 ORDER BY 1, 2
            """
        ),
        {"b": _business(uow), "start": period.start, "end": period.end},
    ).all()
    return pd.DataFrame(rows, columns=["day", "status", "returns"])


def returns_by_category(uow: UnitOfWork, period: Period) -> pd.DataFrame:
    """Returns asked per category: how many, approved (or completed), their order value."""
    if not whole_days(period):
        return returns_by_category_from_returns(uow, period)
    rows = uow.session.execute(
        text(
            """
            SELECT coalesce(s.category, 'unknown') AS category, sum(s.returns)::bigint AS returns,
                   coalesce(sum(s.returns) FILTER (WHERE s.status IN ('approved', 'completed')), 0)::bigint AS approved,
                   coalesce(sum(s.order_value), 0)::float AS value
            FROM return_daily_summary s
            WHERE s.business_id = :b AND s.day >= :start_day AND s.day < :end_day
            GROUP BY 1 HAVING sum(s.returns) > 0 ORDER BY 2 DESC, 1
            """
        ),
        _day_params(uow, period),
    ).all()
    return pd.DataFrame(rows, columns=["category", "returns", "approved", "value"])


def returns_by_category_from_returns(uow: UnitOfWork, period: Period) -> pd.DataFrame:
    rows = uow.session.execute(
        text(
            """
            SELECT coalesce(r.product_category, 'unknown') AS category, count(*) AS returns,
                   count(*) FILTER (WHERE r.status IN ('approved', 'completed')) AS approved,
                   coalesce(sum(r.order_value), 0)::float AS value
            FROM return_requests r
            WHERE r.business_id = :b AND r.created_at >= :start AND r.created_at < :end AND NOT r.is_test
            GROUP BY 1 ORDER BY 2 DESC, 1
            """
        ),
        {"b": _business(uow), "start": period.start, "end": period.end},
    ).all()
    return pd.DataFrame(rows, columns=["category", "returns", "approved", "value"])
