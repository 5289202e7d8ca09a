"""The risk scorer as it was before revision 0016 (one INSERT ... ON CONFLICT per range, every factor's explanation
built for every customer), kept read-only as the reference the faster scorer must agree with, customer by customer."""
from __future__ import annotations

from dokani.risk import weights as W
from dokani.triage.engine import REASON_KEYWORDS


def _q(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


_NAD = next(phrases for code, phrases in REASON_KEYWORDS if code == "not_as_described")

# name -> (count expression, evidence-ids expression or None, amount expression) over the per-customer row ``x``.
_FACTOR_SQL: dict[str, tuple[str, str | None, str]] = {
    "returns_30d": ("x.n_30", "x.e_30", "x.n_30"),
    "returns_90d": ("x.n_90", "x.e_90", "x.n_90"),
    "returns_365d": ("x.n_365", "x.e_365", "x.n_365"),
    "return_rate": ("x.returns_all", None,
                    f"CASE WHEN x.orders > 0 THEN greatest(0, least(1.0, x.returns_all::float / x.orders) "
                    f"- {W.RETURN_RATE_FLOOR}) ELSE 0 END"),
    "refunded_value": ("x.n_refunded", "x.e_refunded", f"x.refunded / {W.REFUND_UNIT}"),
    "not_received": ("x.n_nr", "x.e_nr", "greatest(0, x.n_nr - 1)"),
    "not_as_described": ("x.n_nad", "x.e_nad", "greatest(0, x.n_nad - 1)"),
    "quick_claims": ("x.n_quick", "x.e_quick", "x.n_quick"),
    "late_apparel": ("x.n_late", "x.e_late", "x.n_late"),
    "bracketing": ("x.n_brk", "x.e_brk", "x.n_brk"),
    "high_value": ("x.n_high", "x.e_high", "x.n_high"),
    "denied": ("x.n_denied", "x.e_denied", "x.n_denied"),
    "fraud_flags": ("x.n_flagged", "x.e_flagged", "x.n_flagged"),
    "open_events": ("x.n_events", None, "x.n_events"),
}
assert set(_FACTOR_SQL) == set(W.BY_NAME), "every weight has its SQL, and only those"

def _contains_any(phrases: tuple[str, ...]) -> str:
    """The customer's words contain one of the phrases (LIKE: a regular expression per return costs seconds at scale)."""
    return "reason LIKE ANY (ARRAY[" + ", ".join(_q("%" + p.replace("%", "").replace("_", "") + "%") for p in phrases) + "])"


# Per-return facts -> per-customer counts with their evidence (the first 50 ids, oldest first).
_PER_RETURN = {
    "30": "age_days <= 30",
    "90": "age_days > 30 AND age_days <= 90",
    "365": "age_days > 90 AND age_days <= 365",
    "refunded": "status IN ('approved', 'completed') AND age_days <= 365",
    "nr": _contains_any(W.NOT_RECEIVED_PHRASES),
    "nad": _contains_any(_NAD),
    "quick": f"days IS NOT NULL AND days <= {W.QUICK_CLAIM_DAYS}",
    "late": f"category IN ({', '.join(_q(c) for c in W.LATE_CATEGORIES)}) AND days >= {W.LATE_IN_WINDOW_DAYS}",
    "high": f"value >= {W.HIGH_VALUE}",
    "denied": "status = 'denied'",
    "flagged": "flagged",
}


def _contribution(name: str) -> str:
    w = W.BY_NAME[name]
    return f"round(least({w.cap}, {w.weight} * ({_FACTOR_SQL[name][2]}))::numeric, 3)"


def _factor_json(name: str) -> str:
    """The factor with its evidence, or NULL when it found nothing (most customers trip two or three factors)."""
    count, ids, amount = _FACTOR_SQL[name]
    w = W.BY_NAME[name]
    evidence = f"coalesce(to_jsonb({ids}), '[]'::jsonb)" if ids else "'[]'::jsonb"
    events = "coalesce(to_jsonb(x.e_events), '[]'::jsonb)" if name == "open_events" else "'[]'::jsonb"
    return (f"CASE WHEN ({amount}) > 0 THEN jsonb_build_object('name', {_q(name)}, 'amount', round(({amount})::numeric, 3), "
            f"'count', {count}, 'weight', {w.weight}, 'cap', {w.cap}, 'contribution', c.{name}, 'returns', {evidence}, "
            f"'events', {events}) END")


def _scoring_sql(scope: str) -> str:
    """The statement for the customers `scope` selects (a predicate on a column named ``customer_email``)."""
    per_customer = ",\n".join(
        f"count(*) FILTER (WHERE is_{key}) AS n_{key}, (array_agg(id ORDER BY id) FILTER (WHERE is_{key}))[1:50] AS e_{key}"
        for key in _PER_RETURN
    )
    per_return = ",\n".join(f"({cond}) AS is_{key}" for key, cond in _PER_RETURN.items())
    contributions = ",\n".join(f"{_contribution(n)} AS {n}" for n in _FACTOR_SQL)
    total = " + ".join(f"c.{n}" for n in _FACTOR_SQL)
    factors = ", ".join(_factor_json(n) for n in _FACTOR_SQL)
    indicators = ", ".join(f"{_q(k)}, c.{v} > 0" for k, v in W.INDICATORS.items())
    s = scope
    return f"""
WITH base AS (
  SELECT r.id, r.customer_email AS email, r.status, r.order_id,
         coalesce(m.order_value, r.order_value, 0)::float AS value,
         coalesce(m.product_category, r.product_category) AS category,
         coalesce(CASE WHEN m.purchase_date IS NOT NULL AND r.created_at IS NOT NULL
                       THEN greatest(0, extract(day FROM r.created_at - m.purchase_date))::int END,
                  r.days_since_purchase) AS days,
         extract(epoch FROM (timezone('utc', now()) - coalesce(r.created_at, timezone('utc', now())))) / 86400.0 AS age_days,
         lower(coalesce(r.reason_for_return, '')) AS reason,
         CASE WHEN jsonb_typeof(r.fraud_flags) = 'object' AND r.fraud_flags <> '{{}}'::jsonb
              THEN EXISTS (SELECT 1 FROM jsonb_each(r.fraud_flags) f
                           WHERE f.value NOT IN ('false', 'null', '0', '""', '[]', '{{}}'))
              ELSE false END AS flagged
  FROM return_requests r
  LEFT JOIN mock_orders m ON m.order_id = r.order_id AND (m.business_id = r.business_id OR m.business_id IS NULL)
  WHERE r.business_id = :b AND NOT r.is_test AND {s.replace('customer_email', 'r.customer_email')}
),
rr AS MATERIALIZED (SELECT id, email, order_id, category, value, age_days, {per_return} FROM base),
agg AS (
  SELECT email, count(*) AS returns_all, count(*) FILTER (WHERE age_days <= 365) AS returns_365,
         coalesce(sum(value) FILTER (WHERE is_refunded), 0) AS refunded,
         {per_customer}
  FROM rr GROUP BY email
),
brk AS (  -- several returns of one kind of item from one order
  SELECT email, count(DISTINCT order_id) AS n_brk, (array_agg(id ORDER BY id))[1:50] AS e_brk
  FROM (SELECT email, order_id, id, count(*) OVER (PARTITION BY email, order_id, category) AS k FROM rr) t
  WHERE k >= 2 GROUP BY email
),
orders AS (
  SELECT customer_email AS email, count(DISTINCT order_id) AS orders FROM mock_orders
  WHERE business_id = :b AND {s} GROUP BY 1
),
ev AS (
  SELECT customer_email AS email, count(*) AS n_events, (array_agg(id::text ORDER BY created_at, id))[1:50] AS e_events
  FROM security_events WHERE business_id = :b AND NOT coalesce(resolved, false) AND {s} GROUP BY 1
),
customers AS (
  SELECT email FROM agg
  UNION SELECT customer_email FROM customer_risk_profiles WHERE business_id = :b AND {s}
  UNION SELECT email FROM ev
),
x AS (
  SELECT cu.email, coalesce(a.returns_all, 0) AS returns_all, coalesce(a.returns_365, 0) AS returns_365,
         coalesce(o.orders, 0) AS orders, coalesce(a.refunded, 0) AS refunded,
         {", ".join(f"coalesce(a.n_{k}, 0) AS n_{k}, a.e_{k}" for k in _PER_RETURN)},
         coalesce(b.n_brk, 0) AS n_brk, b.e_brk, coalesce(e.n_events, 0) AS n_events, e.e_events
  FROM customers cu
  LEFT JOIN agg a ON a.email = cu.email LEFT JOIN orders o ON o.email = cu.email
  LEFT JOIN brk b ON b.email = cu.email LEFT JOIN ev e ON e.email = cu.email
),
scored AS (
  SELECT x.email, least(1.0, {total}) AS risk_score, x.returns_365 AS return_frequency,
         jsonb_build_object({indicators}) AS fraud_indicators,
         jsonb_build_object('model', {_q(W.SCORER_ID)}, 'returns', x.returns_all, 'returns_365d', x.returns_365,
                            'orders', x.orders, 'refunded_value', round(x.refunded::numeric, 2),
                            'factors', to_jsonb(array_remove(ARRAY[{factors}]::jsonb[], NULL)))
           AS behavior_patterns
  FROM x CROSS JOIN LATERAL (SELECT {contributions}) c
)
SELECT email, risk_score, return_frequency, fraud_indicators, behavior_patterns FROM scored ORDER BY email
"""




REFERENCE_SQL = _scoring_sql("customer_email >= :lo")
