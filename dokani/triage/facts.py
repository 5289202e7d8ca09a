"""What the triage engine needs to know about returns, read from Postgres in one query.

Order facts come from ``mock_orders`` when the order is known (value, category, purchase date), the
customer's history from the counters stored beside each return (``dokani.triage.history``: computed from the
customer's earlier rows where a counter was never filled) and ``customer_risk_profiles``; risk lists and band
overrides are read once per query and hashed. The same query serves one return (the review panel, triage) and
many (backtests, bulk triage); nothing in it sorts or windows the whole business.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from datetime import datetime
from typing import Any, Iterator
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.orm import Session

from dokani.triage.engine import CustomerHistory, ListMatch, ReturnFacts
from dokani.triage.history import stored_or_computed

_FACTS_SQL = """
WITH live_lists AS MATERIALIZED (  -- live list entries of the business (dokani.risk.lists): a handful, hashed
  SELECT l.match_kind, l.value,
         jsonb_agg(jsonb_build_object('list', l.list_kind, 'match', l.match_kind, 'value', l.value, 'note', l.note,
                                      'expires_at', l.expires_at, 'id', l.id) ORDER BY l.list_kind, l.id) AS lists
  FROM risk_list_entries l
  WHERE l.business_id = :business_id AND l.removed_at IS NULL
    AND (l.expires_at IS NULL OR l.expires_at > timezone('utc', now()))
  GROUP BY l.match_kind, l.value
),
overrides AS MATERIALIZED (  -- the live band override of each customer: the latest
  SELECT DISTINCT ON (lower(o.customer_email)) lower(o.customer_email) AS email, o.band, o.reason, o.expires_at
  FROM risk_band_overrides o
  WHERE o.business_id = :business_id AND o.removed_at IS NULL
    AND (o.expires_at IS NULL OR o.expires_at > timezone('utc', now()))
  ORDER BY lower(o.customer_email), o.created_at DESC, o.id DESC
)
SELECT r.id, r.public_id, r.created_at, r.status, r.customer_email, r.order_id,
       r.reason_for_return, r.evidence_urls, CAST(r.fraud_flags AS text) AS fraud_flags,  -- parsed once per value
       r.order_value AS request_value, r.days_since_purchase AS request_days, r.product_category AS request_category,
       r.ai_recommendation, r.policy_version_used,
       {previous_returns} AS previous_returns, {previous_denied} AS previous_denied,
       {returns_30d} AS returns_30d,
       m.order_value AS order_value_known, m.product_category AS category_known,
       m.purchase_date, (m.id IS NOT NULL) AS order_known,
       p.risk_score AS profile_risk_score, p.return_frequency, CAST(p.fraud_indicators AS text) AS fraud_indicators,
       CASE WHEN le.lists IS NULL THEN lo.lists WHEN lo.lists IS NULL THEN le.lists
            ELSE (SELECT jsonb_agg(x ORDER BY x ->> 'list', (x ->> 'id')::bigint)
                  FROM jsonb_array_elements(le.lists || lo.lists) x) END AS lists,
       ov.band AS override_band, ov.reason AS override_reason, ov.expires_at AS override_expires
FROM return_requests r
LEFT JOIN return_history h ON h.return_id = r.id
LEFT JOIN mock_orders m ON m.order_id = r.order_id AND (m.business_id = :business_id OR m.business_id IS NULL)
LEFT JOIN customer_risk_profiles p ON p.business_id = :business_id AND p.customer_email = r.customer_email
LEFT JOIN live_lists le ON le.match_kind = 'email' AND le.value = lower(r.customer_email)
LEFT JOIN live_lists lo ON lo.match_kind = 'order' AND lo.value = r.order_id
LEFT JOIN overrides ov ON ov.email = lower(r.customer_email)
WHERE r.business_id = :business_id {row_filter}
ORDER BY r.created_at, r.id
""".format(previous_returns=stored_or_computed("prior_returns"),
           previous_denied=stored_or_computed("prior_denied"),
           returns_30d=stored_or_computed("prior_30d"), row_filter="{row_filter}")


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


@lru_cache(maxsize=4096)
def _json_object(raw: str | None) -> dict[str, Any]:
    """A JSON object column sent as text (flags and indicators repeat: each distinct value is parsed once)."""
    value = json.loads(raw) if raw else None
    return value if isinstance(value, dict) else {}


def json_object(raw: Any) -> dict[str, Any]:
    """A copy of a JSON object column (text, or already parsed); {} for anything else."""
    if isinstance(raw, dict):
        return dict(raw)
    return dict(_json_object(raw)) if isinstance(raw, str) else {}


def order_facts(row: Any) -> tuple[float, int | None, str | None]:
    """Order value, days since purchase and category of a facts row: from the known order, else as asked."""
    value = row.order_value_known if row.order_value_known is not None else row.request_value
    days = row.request_days
    if row.purchase_date is not None and row.created_at is not None:  # the known order is the better source
        days = max(0, (row.created_at - row.purchase_date).days)
    return float(value or 0), days, row.category_known or row.request_category


def to_facts(row: Any) -> ReturnWithFacts:
    """A row of the facts query as the engine's facts."""
    value, days, category = order_facts(row)
    facts = ReturnFacts(
        order_value=value,
        days_since_purchase=days,
        product_category=category,
        reason_text=row.reason_for_return,
        evidence_urls=list(row.evidence_urls or []),
        fraud_flags=json_object(row.fraud_flags),
        order_known=bool(row.order_known),
        history=CustomerHistory(
            previous_returns=int(row.previous_returns or 0),
            previous_denied=int(row.previous_denied or 0),
            recent_returns_30d=int(row.returns_30d or 0),
            profile_risk_score=float(row.profile_risk_score) if row.profile_risk_score is not None else None,
            return_frequency=row.return_frequency,
            fraud_indicators=json_object(row.fraud_indicators),
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
    # chat-lab test returns never count as a customer's history (the return asked about may be one)
    sql = _FACTS_SQL.format(row_filter="AND r.id = :return_id")
    row = session.execute(text(sql), {"business_id": business_id, "return_id": return_id}).first()
    return to_facts(row) if row else None


def rows_by_id(session: Session, business_id: UUID, ids: list[int]) -> dict[int, Any]:
    """The facts rows (as `iter_rows` yields them) of some returns of a business, by id."""
    if not ids:
        return {}
    sql = _FACTS_SQL.format(row_filter="AND r.id = ANY(CAST(:ids AS bigint[]))")
    return {row.id: row for row in session.execute(text(sql), {"business_id": business_id, "ids": list(ids)})}


def period_filter(alias: str, since: datetime | None, until: datetime | None, statuses: list[str] | None = None,
                  include_test: bool = False) -> tuple[str, dict[str, Any]]:
    """The SQL (``AND ...``) and parameters choosing a business's returns as `iter_rows` and `count_returns` do."""
    clauses, params = _period_filter(alias, since, until, statuses)
    clauses = ([] if include_test else [f"NOT {alias}.is_test"]) + clauses
    return "".join(f" AND {c}" for c in clauses), params


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
    for row in iter_rows(session, business_id, since=since, until=until, statuses=statuses, batch_size=batch_size,
                         include_test=include_test):
        yield to_facts(row)


def iter_rows(session: Session, business_id: UUID, *, since: datetime | None = None, until: datetime | None = None,
              statuses: list[str] | None = None, batch_size: int = 5000, include_test: bool = False) -> Iterator[Any]:
    """The rows behind `iter_facts`, as the query returns them (``to_facts`` turns one into facts): for batch
    evaluation (``dokani.triage.batch``), which builds facts only for the returns it has to evaluate."""
    clauses, params = _period_filter("r", since, until, statuses)
    params["business_id"] = business_id
    sql = _FACTS_SQL.format(row_filter="".join(f" AND {c}" for c in ([] if include_test else ["NOT r.is_test"]) + clauses))
    yield from session.execute(text(sql).execution_options(yield_per=batch_size), params)


def count_returns(session: Session, business_id: UUID, since: datetime | None = None, until: datetime | None = None,
                  statuses: list[str] | None = None, include_test: bool = False) -> int:
    """How many returns `iter_facts` would yield (for progress bars)."""
    clauses, params = _period_filter("r", since, until, statuses)
    clauses = ["r.business_id = :business_id"] + ([] if include_test else ["NOT r.is_test"]) + clauses
    params["business_id"] = business_id
    sql = f"SELECT count(*) FROM return_requests r WHERE {' AND '.join(clauses)}"
    return int(session.execute(text(sql), params).scalar())
