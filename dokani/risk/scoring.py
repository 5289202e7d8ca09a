"""The customer risk score: deterministic, explainable, computed in Postgres.

One SQL statement scores a set of customers of one business (one customer, a list, a range of emails, or all of
them) from their history: returns by age, returns per order (``mock_orders``), refunded value, reason mix, claims
soon after purchase, apparel returned late, bracketing, high-value returns, denials, fraud flags and open security
events. Every factor (``dokani.risk.weights``) is stored with its amount, weight, contribution and evidence (return
ids, security event ids) in ``behavior_patterns``; ``fraud_indicators``
holds the booleans the triage engine reads. Beside them, ``score_inputs`` (revision 0016) is a fingerprint of
everything the factors counted: a customer whose counts, evidence, score and indicators are what the last scoring
found gets no new explanation built and no write. Changed profiles are written with one ``UPDATE ... FROM`` per range
(new customers with an ``INSERT ... ON CONFLICT``), so recomputing twice in a row changes nothing (``last_updated``
is the time the score last changed).
"""
from __future__ import annotations

import time
import zlib
from typing import Callable, Iterable
from uuid import UUID

from pydantic import BaseModel, Field
from sqlalchemy import text

from db.uow import UnitOfWork
from dokani import audit
from dokani.risk import weights as W
from dokani.triage.engine import REASON_KEYWORDS

Progress = Callable[[int, int], None]
CAN_RECOMPUTE = ("owner", "admin", "reviewer")


class Factor(BaseModel):
    name: str
    amount: float = Field(description="what the factor counted, in its unit")
    count: int = Field(0, description="returns, claims, orders or events behind it")
    weight: float
    cap: float
    contribution: float
    returns: list[int] = Field(default_factory=list, description="ids of the returns behind it")
    events: list[str] = Field(default_factory=list, description="ids of the security events behind it")


class BehaviorPatterns(BaseModel):
    model: str = W.SCORER_ID
    returns: int = 0
    returns_365d: int = 0
    orders: int = 0
    refunded_value: float = 0.0
    factors: list[Factor] = Field(default_factory=list, description="only the factors that found something")


class FraudIndicators(BaseModel):
    fraud_flags: bool = False
    repeated_not_received: bool = False
    bracketing: bool = False
    open_security_events: bool = False


class RecomputeSummary(BaseModel):
    business_id: UUID
    customers: int = 0
    written: int = Field(0, description="profiles created or changed")
    seconds: float = 0.0

    def describe(self) -> str:
        return (f"Scored {self.customers:,} customer(s): {self.written:,} profile(s) created or changed, "
                f"{self.customers - self.written:,} unchanged, in {self.seconds:.1f} s.")


def is_computed(behavior_patterns: dict | None) -> bool:
    """Whether a stored profile was computed by this scorer (else: imported or seeded, never scored here)."""
    return isinstance(behavior_patterns, dict) and behavior_patterns.get("model") == W.SCORER_ID


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
    """The factor with its evidence, or NULL when it found nothing (most customers trip two or three factors).

    Built as ``json`` (text) and turned into ``jsonb`` once per customer: a ``jsonb_build_object`` per factor costs
    several times more, for the same stored value."""
    count, ids, amount = _FACTOR_SQL[name]
    w = W.BY_NAME[name]
    evidence = f"coalesce(to_jsonb({ids}), '[]'::jsonb)" if ids else "'[]'::jsonb"
    events = "coalesce(to_jsonb(x.e_events), '[]'::jsonb)" if name == "open_events" else "'[]'::jsonb"
    return (f"CASE WHEN ({amount}) > 0 THEN jsonb_build_object('name', {_q(name)}, "
            f"'amount', round(({amount})::numeric, 3), 'count', {count}, 'weight', {w.weight}, 'cap', {w.cap}, "
            f"'contribution', x.c_{name}, 'returns', {evidence}, 'events', {events}) END")


# What the last scoring counted is stored as a 64-bit fingerprint (``score_inputs``) of every count and evidence id
# behind the factors, seeded with the weights and the factors' SQL: a customer whose counts, evidence, score and
# indicators are what they were gets no new explanation built (the costly part of a recompute) and no write.
_INPUTS_SEED = zlib.crc32(repr((W.SCORER_ID, W.WEIGHTS, W.INDICATORS, _PER_RETURN, _FACTOR_SQL)).encode()) - 2**31


def _scoring_sql(scope: str) -> str:
    """The statement for the customers `scope` selects (a predicate on a column named ``customer_email``).

    One pass over the customers' returns (read in email order from ``return_requests_customer_idx``, each return's
    order found by its unique ``order_id``), one aggregate per customer with every factor's count and evidence,
    the orders and open events of the same customers aggregated once each, and the customers' stored profiles read
    once to compare. Only profiles whose result differs are written: one ``UPDATE ... FROM`` for the existing ones,
    one ``INSERT ... ON CONFLICT`` for new customers (a profile created meanwhile by a triage is compared, too).
    """
    per_customer = ",\n".join(
        f"count(*) FILTER (WHERE is_{key}) AS n_{key}, (array_agg(id ORDER BY id) FILTER (WHERE is_{key}))[1:50] AS e_{key}"
        for key in _PER_RETURN
    )
    per_return = ",\n".join(f"({cond}) AS is_{key}" for key, cond in _PER_RETURN.items())
    contributions = ",\n".join(f"{_contribution(n)} AS c_{n}" for n in _FACTOR_SQL)
    total = " + ".join(f"x.c_{n}" for n in _FACTOR_SQL)
    factors = ", ".join(_factor_json(n) for n in _FACTOR_SQL)
    indicators = ", ".join(f"{_q(k)}, x.c_{v} > 0" for k, v in W.INDICATORS.items())
    inputs = ", ".join(["x.returns_all", "x.returns_365", "x.orders", "x.refunded::text", "x.n_brk",
                        "coalesce(x.e_brk::text, '')", "x.n_events", "coalesce(x.e_events::text, '')"]
                       + [f"x.n_{k}, coalesce(x.e_{k}::text, '')" for k in _PER_RETURN])
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
  LEFT JOIN LATERAL (  -- the return's own order (order ids are unique): one index probe, not a scan of every order
    SELECT m.order_value, m.product_category, m.purchase_date FROM mock_orders m
    WHERE m.order_id = r.order_id AND (m.business_id = r.business_id OR m.business_id IS NULL) LIMIT 1
  ) m ON true
  WHERE r.business_id = :b AND NOT r.is_test AND {s.replace('customer_email', 'r.customer_email')}
  OFFSET 0
),
facts AS (  -- each return's facts as booleans, before any sort: the customer's words are not carried further
  SELECT id, email, order_id, category, value, age_days, {per_return} FROM base
  OFFSET 0
),
rr AS (
  SELECT *, count(*) OVER (PARTITION BY email, order_id, category) >= 2 AS is_brk  -- several of one kind, one order
  FROM facts
),
agg AS (
  SELECT email, count(*) AS returns_all, count(*) FILTER (WHERE age_days <= 365) AS returns_365,
         coalesce(sum(value) FILTER (WHERE is_refunded), 0) AS refunded,
         {per_customer},
         count(DISTINCT order_id) FILTER (WHERE is_brk) AS n_brk,
         (array_agg(id ORDER BY id) FILTER (WHERE is_brk))[1:50] AS e_brk
  FROM rr GROUP BY email
),
orders AS (
  SELECT customer_email AS email, count(DISTINCT order_id) AS orders FROM mock_orders
  WHERE business_id = :b AND {s} GROUP BY 1
),
ev AS (
  SELECT customer_email AS email, count(*) AS n_events, (array_agg(id::text ORDER BY created_at, id))[1:50] AS e_events
  FROM security_events WHERE business_id = :b AND NOT coalesce(resolved, false) AND {s} GROUP BY 1
),
stored AS (
  SELECT customer_email AS email, risk_score, return_frequency, fraud_indicators, score_inputs, band_rank
  FROM customer_risk_profiles WHERE business_id = :b AND {s}
),
customers AS (SELECT email FROM agg UNION SELECT email FROM stored UNION SELECT email FROM ev),
xs AS (
  SELECT x.*, {contributions}, hashtextextended(concat_ws('|', {inputs}), {_INPUTS_SEED}) AS inputs
  FROM (
    SELECT cu.email, coalesce(a.returns_all, 0) AS returns_all, coalesce(a.returns_365, 0) AS returns_365,
           coalesce(o.orders, 0) AS orders, coalesce(a.refunded, 0) AS refunded,
           {", ".join(f"coalesce(a.n_{k}, 0) AS n_{k}, a.e_{k}" for k in _PER_RETURN)},
           coalesce(a.n_brk, 0) AS n_brk, a.e_brk, coalesce(e.n_events, 0) AS n_events, e.e_events
    FROM customers cu
    LEFT JOIN agg a ON a.email = cu.email LEFT JOIN orders o ON o.email = cu.email
    LEFT JOIN ev e ON e.email = cu.email
    OFFSET 0  -- each contribution computed once per customer, not once per use
  ) x
  OFFSET 0
),
compared AS (  -- the cheap part of the result next to what is stored
  SELECT x.*, least(1.0, {total}) AS risk_score, x.returns_365::int AS return_frequency,
         jsonb_build_object({indicators}) AS fraud_indicators, st.email IS NOT NULL AS known,
         st.risk_score AS old_score, st.return_frequency AS old_frequency, st.fraud_indicators AS old_indicators,
         st.score_inputs AS old_inputs, st.band_rank AS old_band
  FROM xs x LEFT JOIN stored st ON st.email = x.email
  OFFSET 0
),
scored AS MATERIALIZED (  -- the explanation is built only where what was counted differs from the last scoring
  SELECT x.email, x.known, x.risk_score, x.return_frequency, x.fraud_indicators, x.inputs,
         jsonb_build_object('model', {_q(W.SCORER_ID)}, 'returns', x.returns_all, 'returns_365d', x.returns_365,
                            'orders', x.orders, 'refunded_value', round(x.refunded::numeric, 2),
                            'factors', to_jsonb(array_remove(ARRAY[{factors}]::jsonb[], NULL)))
           AS behavior_patterns,
         x.old_score, x.old_frequency, x.old_indicators
  FROM compared x
  -- band_rank < 0: the stored explanation is not this scorer's (written elsewhere), so it is written again
  WHERE NOT x.known OR x.old_band < 0 OR (x.old_score, x.old_frequency, x.old_indicators, x.old_inputs)
                       IS DISTINCT FROM (x.risk_score, x.return_frequency, x.fraud_indicators, x.inputs)
),
updated AS (
  UPDATE customer_risk_profiles p SET
    risk_score = c.risk_score, return_frequency = c.return_frequency, fraud_indicators = c.fraud_indicators,
    behavior_patterns = c.behavior_patterns, score_inputs = c.inputs,
    last_updated = CASE WHEN c.differs THEN timezone('utc', now()) ELSE p.last_updated END
  FROM (SELECT n.*, (n.old_score, n.old_frequency, n.old_indicators, o.behavior_patterns)
                    IS DISTINCT FROM (n.risk_score, n.return_frequency, n.fraud_indicators, n.behavior_patterns) AS differs
        FROM scored n JOIN customer_risk_profiles o ON o.business_id = :b AND o.customer_email = n.email
        WHERE n.known) c
  WHERE p.business_id = :b AND p.customer_email = c.email AND {s.replace('customer_email', 'p.customer_email')}
  RETURNING c.differs
),
inserted AS (
  INSERT INTO customer_risk_profiles AS p (customer_email, business_id, risk_score, return_frequency,
                                           fraud_indicators, behavior_patterns, score_inputs, last_updated)
  SELECT email, :b, risk_score, return_frequency, fraud_indicators, behavior_patterns, inputs, timezone('utc', now())
  FROM scored WHERE NOT known
  ON CONFLICT (business_id, customer_email) DO UPDATE SET  -- a triage created the profile meanwhile
    risk_score = excluded.risk_score, return_frequency = excluded.return_frequency,
    fraud_indicators = excluded.fraud_indicators, behavior_patterns = excluded.behavior_patterns,
    score_inputs = excluded.score_inputs, last_updated = excluded.last_updated
  WHERE (p.risk_score, p.return_frequency, p.fraud_indicators, p.behavior_patterns)
        IS DISTINCT FROM (excluded.risk_score, excluded.return_frequency, excluded.fraud_indicators,
                          excluded.behavior_patterns)
  RETURNING 1
)
SELECT (SELECT count(*) FROM customers) AS customers,
       (SELECT count(*) FILTER (WHERE differs) FROM updated) + (SELECT count(*) FROM inserted) AS written
"""


_SQL_EMAILS = _scoring_sql("customer_email = ANY(:emails)")
_SQL_RANGE = _scoring_sql("customer_email >= :lo AND (CAST(:hi AS text) IS NULL OR customer_email < :hi)")


def _require(uow: UnitOfWork) -> UUID:
    from dokani.errors import NotAllowed

    business_id = uow.actor.business_id
    if business_id is None:
        raise NotAllowed("Choose a business first.")
    role = uow.session.execute(text("SELECT dokani.member_role(:b)"), {"b": business_id}).scalar()
    if role not in CAN_RECOMPUTE:
        raise NotAllowed(f"Your role here is {role or 'none'}: only owners, admins and reviewers recompute risk.")
    return business_id


def refresh_customers(uow: UnitOfWork, emails: Iterable[str]) -> int:
    """Rescore these customers of the current business inside the caller's transaction (no commit, no audit:
    the triage or decision that calls it has its own). Returns how many profiles changed."""
    wanted = sorted({e for e in emails if e})
    if not wanted or uow.actor.business_id is None:
        return 0
    row = uow.session.execute(text(_SQL_EMAILS), {"b": uow.actor.business_id, "emails": wanted}).one()
    return int(row.written)


def _boundaries(uow: UnitOfWork, business_id: UUID, chunk: int) -> tuple[list[str], int]:
    """The starts of the recompute's ranges (every `chunk`-th profile's email; the first range starts below every
    email, so customers without a profile yet are in a range too) and how many profiles there are.

    Read from the profiles' (business, email) index alone: a union with every return's email would cost seconds."""
    def every_nth(source: str) -> tuple[list[str], int]:
        rows = uow.session.execute(
            text(f"SELECT email, total FROM (SELECT email, row_number() OVER (ORDER BY email) AS n, "
                 f"count(*) OVER () AS total FROM ({source}) e) t WHERE n % :chunk = 1 ORDER BY email"),
            {"b": business_id, "chunk": chunk},
        ).all()
        return [r.email for r in rows], (rows[0].total if rows else 0)

    emails, total = every_nth("SELECT customer_email AS email FROM customer_risk_profiles WHERE business_id = :b")
    if not emails:  # no profile yet: the returns' customers (rare: triage and the seed write profiles)
        emails, total = every_nth("SELECT DISTINCT customer_email AS email FROM return_requests "
                                  "WHERE business_id = :b AND NOT is_test")
    return [""] + emails[1:], total


def recompute_business(uow: UnitOfWork, *, progress: Progress | None = None, chunk: int = 25_000) -> RecomputeSummary:
    """Rescore every customer of the current business, set-based, one range of about `chunk` emails per statement;
    one transaction with one audit row; `progress(done, total)` after each range (total: the profiles there were,
    or the customers scored when that is more)."""
    business_id = _require(uow)
    started = time.perf_counter()
    # sorts and hashes of a range stay in memory; the plan is the same for every range
    uow.session.execute(text("SET LOCAL work_mem = '64MB'"))
    starts, total = _boundaries(uow, business_id, max(1, chunk))
    summary = RecomputeSummary(business_id=business_id)
    if progress:
        progress(0, total)
    for i, lo in enumerate(starts):
        hi = starts[i + 1] if i + 1 < len(starts) else None
        row = uow.session.execute(text(_SQL_RANGE), {"b": business_id, "lo": lo, "hi": hi}).one()
        summary.customers += int(row.customers)
        summary.written += int(row.written)
        if progress:
            progress(summary.customers, max(total, summary.customers))
    summary.seconds = round(time.perf_counter() - started, 2)
    audit.record(uow, "risk.recomputed", "customer_risk_profiles", business_id,
                 after={"customers": summary.customers, "written": summary.written, "model": W.SCORER_ID},
                 note=summary.describe())
    uow.commit()
    return summary
