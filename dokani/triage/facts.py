"""What the triage engine needs to know about returns, read from Postgres in one query.

Order facts come from ``mock_orders`` when the order is known (value, category, purchase date), the
customer's history from their earlier returns and ``customer_risk_profiles``. The same query serves
one return (the review panel, triage) and many (backtests, bulk triage): history is computed with
window functions in SQL, not row by row.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterator
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.orm import Session

from dokani.triage.engine import CustomerHistory, ListMatch, ReturnFacts

_FACTS_SQL = """
WITH scoped AS (
  SELECT r.id, r.public_id, r.created_at, r.status, r.customer_email, r.order_id,
         r.reason_for_return, r.evidence_urls, r.fraud_flags,
         r.order_value AS request_value, r.days_since_purchase AS request_days, r.product_category AS request_category,
         r.ai_recommendation, r.policy_version_used,
         count(*) OVER w_before AS previous_returns,
         count(*) FILTER (WHERE r.status = 'denied') OVER w_before AS previous_denied,
         count(*) OVER w_30d AS returns_30d
  FROM return_requests r
  WHERE r.business_id = :business_id {test_filter} {customer_filter}
  WINDOW w_before AS (PARTITION BY r.customer_email ORDER BY r.created_at, r.id
                      ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING),
         w_30d AS (PARTITION BY r.customer_email ORDER BY r.created_at
                   RANGE BETWEEN INTERVAL '30 days' PRECEDING AND CURRENT ROW)
)
SELECT s.*, m.order_value AS order_value_known, m.product_category AS category_known,
       m.purchase_date, (m.id IS NOT NULL) AS order_known,
       p.risk_score AS profile_risk_score, p.return_frequency, p.fraud_indicators,
       li.lists, ov.band AS override_band, ov.reason AS override_reason, ov.expires_at AS override_expires
FROM scoped s
LEFT JOIN mock_orders m ON m.order_id = s.order_id AND (m.business_id = :business_id OR m.business_id IS NULL)
LEFT JOIN customer_risk_profiles p ON p.business_id = :business_id AND p.customer_email = s.customer_email
LEFT JOIN LATERAL (  -- live list entries naming this customer's email or this order (dokani.risk.lists)
  SELECT jsonb_agg(jsonb_build_object('list', l.list_kind, 'match', l.match_kind, 'value', l.value, 'note', l.note,
                                      'expires_at', l.expires_at) ORDER BY l.list_kind, l.id) AS lists
  FROM risk_list_entries l
  WHERE l.business_id = :business_id AND l.removed_at IS NULL
    AND (l.expires_at IS NULL OR l.expires_at > timezone('utc', now()))
    AND l.value IN (lower(s.customer_email), s.order_id)
    AND ((l.match_kind = 'email' AND l.value = lower(s.customer_email)) OR (l.match_kind = 'order' AND l.value = s.order_id))
) li ON true
LEFT JOIN LATERAL (
  SELECT o.band, o.reason, o.expires_at FROM risk_band_overrides o
  WHERE o.business_id = :business_id AND o.removed_at IS NULL AND lower(o.customer_email) = lower(s.customer_email)
    AND (o.expires_at IS NULL OR o.expires_at > timezone('utc', now()))
  ORDER BY o.created_at DESC LIMIT 1
) ov ON true
WHERE TRUE {row_filter}
ORDER BY s.created_at, s.id
"""


@dataclass(frozen=True)
class ReturnWithFacts:
    """A return as stored, next to the facts the engine evaluates."""

    id: int
    public_id: UUID
    created_at: datetime
    status: str | None
    customer_email: str
    order_id: str
    ai_recommendation: str | None
    policy_version_used: str | None
    order_value: float
    facts: ReturnFacts


def _to_facts(row: Any) -> ReturnWithFacts:
    value = row.order_value_known if row.order_value_known is not None else row.request_value
    days = row.request_days
    if row.purchase_date is not None and row.created_at is not None:  # the known order is the better source
        days = max(0, (row.created_at - row.purchase_date).days)
    facts = ReturnFacts(
        order_value=float(value or 0),
        days_since_purchase=days,
        product_category=row.category_known or row.request_category,
        reason_text=row.reason_for_return,
        evidence_urls=list(row.evidence_urls or []),
        fraud_flags=dict(row.fraud_flags or {}),
        order_known=bool(row.order_known),
        history=CustomerHistory(
            previous_returns=int(row.previous_returns or 0),
            previous_denied=int(row.previous_denied or 0),
            recent_returns_30d=max(0, int(row.returns_30d or 0) - 1),
            profile_risk_score=float(row.profile_risk_score) if row.profile_risk_score is not None else None,
            return_frequency=row.return_frequency,
            fraud_indicators=dict(row.fraud_indicators or {}),
            lists=[ListMatch(**m) for m in (row.lists or [])],
            band_override=row.override_band,
            override_reason=row.override_reason,
            override_expires=row.override_expires,
        ),
    )
    return ReturnWithFacts(
        id=row.id, public_id=row.public_id, created_at=row.created_at, status=row.status,
        customer_email=row.customer_email, order_id=row.order_id, ai_recommendation=row.ai_recommendation,
        policy_version_used=row.policy_version_used, order_value=facts.order_value, facts=facts,
    )


def facts_for_return(session: Session, business_id: UUID, return_id: int) -> ReturnWithFacts | None:
    """Facts for one return (its customer's history only, so it is cheap)."""
    sql = _FACTS_SQL.format(
        # chat-lab test returns never count as a customer's history (the return asked about may be one)
        test_filter="AND (NOT r.is_test OR r.id = :return_id)",
        customer_filter="AND r.customer_email = (SELECT customer_email FROM return_requests WHERE id = :return_id)",
        row_filter="AND s.id = :return_id",
    )
    row = session.execute(text(sql), {"business_id": business_id, "return_id": return_id}).first()
    return _to_facts(row) if row else None


def _period_filter(alias: str, since: datetime | None, until: datetime | None,
                   statuses: list[str] | None) -> tuple[list[str], dict[str, Any]]:
    """The period and status clauses shared by `iter_facts` and `count_returns`."""
    clauses: list[str] = []
    params: dict[str, Any] = {}
    if since is not None:
        clauses.append(f"{alias}.created_at >= :since")
        params["since"] = since
    if until is not None:
        clauses.append(f"{alias}.created_at < :until")
        params["until"] = until
    if statuses:
        clauses.append(f"{alias}.status = ANY(:statuses)")
        params["statuses"] = statuses
    return clauses, params


def iter_facts(
    session: Session,
    business_id: UUID,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    statuses: list[str] | None = None,
    batch_size: int = 2000,
    include_test: bool = False,
) -> Iterator[ReturnWithFacts]:
    """Facts for every return of a business in a period (history still counts all earlier returns).

    Chat-lab test returns (``is_test``) are left out, as rows and as history, unless `include_test`.
    """
    clauses, params = _period_filter("s", since, until, statuses)
    params["business_id"] = business_id
    sql = _FACTS_SQL.format(test_filter="" if include_test else "AND NOT r.is_test", customer_filter="",
                            row_filter="".join(f" AND {c}" for c in clauses))
    result = session.execute(text(sql).execution_options(yield_per=batch_size), params)
    for row in result:
        yield _to_facts(row)


def count_returns(session: Session, business_id: UUID, since: datetime | None = None, until: datetime | None = None,
                  statuses: list[str] | None = None, include_test: bool = False) -> int:
    """How many returns `iter_facts` would yield (for progress bars)."""
    clauses, params = _period_filter("r", since, until, statuses)
    clauses = ["r.business_id = :business_id"] + ([] if include_test else ["NOT r.is_test"]) + clauses
    params["business_id"] = business_id
    sql = f"SELECT count(*) FROM return_requests r WHERE {' AND '.join(clauses)}"
    return int(session.execute(text(sql), params).scalar())
