"""The customer's history before each return, stored beside the return: what the engine reads about earlier returns.

Table ``return_history`` (revision 0020) keeps, per live return (not a chat-lab test return), five counters, all
about the same customer (email) in the same business and all as of the moment the return was asked for
(``created_at``), so later events never change them:

- ``prior_returns``: earlier returns (ordered by ``created_at``, then ``id``);
- ``prior_30d`` / ``prior_90d`` / ``prior_365d``: other returns asked in the 30 / 90 / 365 days up to this one;
- ``prior_denied``: earlier returns that had been denied by then (denied at or before this return was asked;
  a denied return without ``denied_at`` counts as denied when it was decided, else when it was asked).

A table of its own, not columns of ``return_requests``: filling it never rewrites a return (a return's version,
which reviewers hand back when they decide, stays as it was; none of the return's many indexes is touched).
Chat-lab test returns never count as anyone's history and have no row. A return without a row (written by a path
that does not fill it) has its counters computed when read (``computed_sql``), with the same definition.

``fill_history_counters`` recomputes the counters of a business, of some customers, or of every business in one
set-based UPDATE that writes only the rows whose counters differ. Triage calls it for the customers it triages; the
migration calls it after adding the table (the seed writes the same counters from its returns pass, and its tests
check that a fill then changes nothing); anything that writes returns dated in the past (an import of
history) or deletes returns should call it for those customers.
"""
from __future__ import annotations

from typing import Any, Iterable
from uuid import UUID

import psycopg
from sqlalchemy import text

COLUMNS = ("prior_returns", "prior_30d", "prior_90d", "prior_365d", "prior_denied")
DAYS = {"prior_30d": 30, "prior_90d": 90, "prior_365d": 365}
# When a denied return counts as denied for the returns asked after it.
DENIED_AT = "coalesce({d}.denied_at, {d}.admin_decision_at, {d}.created_at)"

_FILL_SQL = """
INSERT INTO public.return_history AS h
  (return_id, business_id, prior_returns, prior_30d, prior_90d, prior_365d, prior_denied)
SELECT w.id, w.business_id, w.h_all, w.h_30, w.h_90, w.h_365, coalesce(dn.n, 0)
FROM (
  SELECT r.id, r.business_id,
         count(*) OVER (PARTITION BY r.business_id, r.customer_email ORDER BY r.created_at, r.id
                        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS h_all,
         count(*) OVER (PARTITION BY r.business_id, r.customer_email ORDER BY r.created_at
                        RANGE BETWEEN INTERVAL '30 days' PRECEDING AND CURRENT ROW) - 1 AS h_30,
         count(*) OVER (PARTITION BY r.business_id, r.customer_email ORDER BY r.created_at
                        RANGE BETWEEN INTERVAL '90 days' PRECEDING AND CURRENT ROW) - 1 AS h_90,
         count(*) OVER (PARTITION BY r.business_id, r.customer_email ORDER BY r.created_at
                        RANGE BETWEEN INTERVAL '365 days' PRECEDING AND CURRENT ROW) - 1 AS h_365
  FROM public.return_requests r
  WHERE NOT r.is_test AND r.created_at IS NOT NULL {scope_r}
) w
LEFT JOIN (
  SELECT r.id, count(*) AS n
  FROM public.return_requests r
  JOIN public.return_requests d ON d.business_id = r.business_id AND d.customer_email = r.customer_email
  WHERE NOT r.is_test AND r.created_at IS NOT NULL {scope_r}
    AND NOT d.is_test AND d.status = 'denied' {scope_d}
    AND (d.created_at, d.id) < (r.created_at, r.id) AND {denied_at} <= r.created_at
  GROUP BY r.id
) dn ON dn.id = w.id
ON CONFLICT (return_id) DO UPDATE SET
  prior_returns = excluded.prior_returns, prior_30d = excluded.prior_30d, prior_90d = excluded.prior_90d,
  prior_365d = excluded.prior_365d, prior_denied = excluded.prior_denied
WHERE (h.prior_returns, h.prior_30d, h.prior_90d, h.prior_365d, h.prior_denied)
      IS DISTINCT FROM (excluded.prior_returns, excluded.prior_30d, excluded.prior_90d, excluded.prior_365d,
                        excluded.prior_denied)
"""


def _scope(alias: str, business: str | None, emails: str | None) -> str:
    parts = []
    if business:
        parts.append(f"AND {alias}.business_id = {business}")
    if emails:
        parts.append(f"AND {alias}.customer_email = ANY({emails})")
    return " ".join(parts)


def fill_sql(*, business: str | None = None, emails: str | None = None) -> str:
    """The UPDATE, with `business` / `emails` the parameter placeholders of the driver (or None: no such scope)."""
    return _FILL_SQL.format(scope_r=_scope("r", business, emails), scope_d=_scope("d", business, emails),
                            denied_at=DENIED_AT.format(d="d"))


def fill_history_counters(target: Any, business_id: UUID | str | None = None,
                          customer_emails: Iterable[str] | None = None) -> int:
    """Recompute the stored history counters (of a business, and of some of its customers); rows written
    (``return_history`` rows created or changed: a second run writes none).

    `target` is a unit of work (``db.uow.UnitOfWork``: row-level security applies, so only rows the actor may
    update are written), a SQLAlchemy session or connection, or a psycopg connection (the seed's owner connection).
    Nothing is committed here. With no business and no customers, every business's returns are recomputed.
    """
    emails = None if customer_emails is None else sorted(set(customer_emails))
    if emails is not None and not emails:
        return 0
    executor = getattr(target, "session", target)
    if isinstance(executor, psycopg.Connection):
        sql = fill_sql(business="%(b)s" if business_id else None, emails="%(e)s" if emails is not None else None)
        cur = executor.execute(sql, {"b": business_id, "e": emails})
        return cur.rowcount
    sql = fill_sql(business="CAST(:b AS uuid)" if business_id else None,
                   emails="CAST(:e AS text[])" if emails is not None else None)
    result = executor.execute(text(sql), {"b": str(business_id) if business_id else None, "e": emails})
    return result.rowcount


def computed_sql(column: str, r: str = "r") -> str:
    """A scalar subquery computing `column` for the return aliased `r` from the customer's rows (the definition)."""
    same = (f"e.business_id = {r}.business_id AND e.customer_email = {r}.customer_email AND NOT e.is_test "
            f"AND e.id <> {r}.id")
    if column == "prior_returns":
        cond = f"(e.created_at, e.id) < ({r}.created_at, {r}.id)"
    elif column == "prior_denied":
        cond = (f"(e.created_at, e.id) < ({r}.created_at, {r}.id) AND e.status = 'denied' "
                f"AND {DENIED_AT.format(d='e')} <= {r}.created_at")
    else:
        cond = f"e.created_at BETWEEN {r}.created_at - INTERVAL '{DAYS[column]} days' AND {r}.created_at"
    return f"(SELECT count(*) FROM public.return_requests e WHERE {same} AND {cond})"


def stored_or_computed(column: str, r: str = "r", h: str = "h") -> str:
    """The stored counter (``return_history`` aliased `h`, left-joined), or (no row) the same value computed from
    the customer's rows."""
    return f"coalesce({h}.{column}, {computed_sql(column, r)})"
