"""Returns that decide alike, grouped by Postgres: what a backtest needs without sending every return to Python.

Under a given set of policies the engine's recommendation of a return reads only a few of its facts (see
``dokani.triage.batch``): the category, which side of each policy's value thresholds the order value is, whether
the days since purchase exceed the category's window, the reason code, the kinds of evidence, the fraud flags that
are set, the risk lists naming the customer or the order, and the risk score against each policy's thresholds.
``classes_sql`` computes those per return in SQL and groups by them, so a period of 100,000 returns comes back as a
few thousand classes, each with how many returns, their order value (the refund), their recorded decisions, one
return whose full facts the engine evaluates for the class, and every return's id and time (for the flips sample).

What is computed here is the engine's own reading, exactly:

- order value, days since purchase and category as ``facts.order_facts`` reads them; value and days only as the
  side of each threshold / window (``value_side``, ``days_side``), compared as floats like Python does;
- the reason code: the stored ``return_requests.reason_code`` (revision 0015, the engine's classifier in SQL, held
  equal to it by a test); words with non-ASCII letters are sent as they are and read by ``classify_reason``;
- evidence kinds: the engine's patterns over the links (ASCII links without line breaks); any other links are sent
  as they are and read by the engine's own ``_evidence_kinds``;
- the fraud flags that are set (Python's truthiness of JSON values) and the profile's fraud indicators that are;
- the risk score of each policy as ``engine.assess_risk`` adds it up, in thousandths: every contribution is a
  multiple of 0.001 (the profile's is rounded so, as the engine rounds it in floats: ``_PROFILE_MILLI``), so the
  integer sum k is the engine's rounded score k / 1000 exactly, compared with thresholds turned into thousandths
  (``milli_cutoffs``). A return whose profile score is outside 0..1 or has more than 10 decimals, or whose flags or
  indicators hold numbers too small for a float, gets no risk here (``risk_code`` NULL) and a class of its own by
  every risk input (``risk_inputs``): the engine scores its representative.

``dokani.triage.batch.ClassEvaluator`` turns the classes into recommendations and checks every representative it
evaluates against the class it stands for (any difference means this reading and the engine's have drifted apart).
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Sequence
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.orm import Session

from dokani.policies.rules import PolicyRules
from dokani.risk.bands import BAND_MIDPOINT
from dokani.triage.history import stored_or_computed

EVIDENCE_BITS = {"photo": 1, "video": 2, "receipt": 4}


@dataclass(frozen=True)
class Cuts:
    """The thresholds of the policies compared: windows and value thresholds, ascending, without repeats."""

    windows: tuple[int, ...]
    values: tuple[float, ...]

    @classmethod
    def of(cls, policies: Sequence[PolicyRules]) -> "Cuts":
        windows = {p.return_window_days for p in policies}
        windows |= {o.return_window_days for p in policies for o in p.category_overrides.values()
                    if o.return_window_days is not None}
        values = {float(t) for p in policies for t in (p.auto_approve_threshold, p.auto_escalation_threshold)}
        return cls(tuple(sorted(windows)), tuple(sorted(values)))

    def days_over(self, side: int, window: int) -> bool:
        """Whether days on `side` (how many windows they exceed) exceed `window` (one of ``windows``)."""
        return self.windows.index(window) < side

    def value_over(self, side: int, threshold: float) -> bool:
        return self.values.index(float(threshold)) < side


def _truthy(v: str) -> str:
    """SQL: the JSON value `v` is truthy as Python reads it after ``json.loads`` (numbers: see ``_tiny``)."""
    return (f"CASE jsonb_typeof({v}) WHEN 'boolean' THEN {v} = 'true'::jsonb WHEN 'null' THEN false "
            f"WHEN 'string' THEN {v} <> '\"\"'::jsonb WHEN 'array' THEN {v} <> '[]'::jsonb "
            f"WHEN 'object' THEN {v} <> '{{}}'::jsonb ELSE ({v} #>> '{{}}')::numeric <> 0 END")


def _tiny(v: str) -> str:
    """SQL: `v` is a number Python may read as 0.0 (below any float): such values are left to the engine."""
    return (f"(jsonb_typeof({v}) = 'number' AND ({v} #>> '{{}}')::numeric <> 0 "
            f"AND abs(({v} #>> '{{}}')::numeric) < 1e-300)")


def _set_keys(column: str) -> str:
    """SQL (a LATERAL subquery): of a JSON object column, the keys whose values are set, in byte order (``keys``)
    and how many (``n``); both NULL when a value is `_tiny`. Anything not an object reads as no keys, as
    ``facts.json_object`` reads it. Values repeat: Postgres reads each distinct one once (Memoize)."""
    return (f"(SELECT CASE WHEN bool_or({_tiny('e.value')}) THEN NULL ELSE coalesce(array_agg(e.key COLLATE \"C\" "
            f"ORDER BY e.key COLLATE \"C\") FILTER (WHERE {_truthy('e.value')}), '{{}}') END AS keys, "
            f"CASE WHEN bool_or({_tiny('e.value')}) THEN NULL "
            f"ELSE count(*) FILTER (WHERE {_truthy('e.value')}) END AS n "
            f"FROM jsonb_each(CASE WHEN jsonb_typeof({column}) = 'object' THEN {column} END) e)")


_PATTERNS = {  # the engine's evidence patterns over the links joined by line breaks (a link ends at its break)
    "photo": ("~*", r"\.(jpe?g|png|webp|heic|gif)(\?|\n)"),  # engine._IMAGE
    "video": ("~*", r"\.(mp4|mov|webm)(\?|\n)"),  # engine._VIDEO
    "receipt": ("~*", r"receipt|\.pdf\n"),  # "receipt" in the link, or it ends with .pdf
}

# The profile score's part of the risk, in thousandths: round(0.30 * score, 3) as Python computes it in floats. Off
# a half-way point that is round(300 * score); on one (a score of three decimals ending in 5, say) Python's float
# product is just above or below it, and its exact value decides: times 2^62 it is an integer, compared exactly.
_PROFILE_MILLI = """CASE WHEN f.score * 300 - floor(f.score * 300) <> 0.5 THEN round(f.score * 300)::bigint
  ELSE floor(f.score * 300)::bigint + CASE sign(
    CAST((0.30::float8 * CAST(f.score AS float8) * 4611686018427387904::float8)::bigint AS numeric) * 2000
    - (2 * floor(f.score * 300) + 1) * 4611686018427387904)
    WHEN 1 THEN 1 WHEN -1 THEN 0 ELSE mod(floor(f.score * 300)::bigint, 2) END END"""
# Scores read exactly so: from 0 to 1 with at most 10 decimals (the scorer writes 3). Others are left to the engine.
_PLAIN_SCORE = "(f.score >= 0 AND f.score <= 1 AND scale(f.score) <= 10)"

# The per-return reading. {...} are filled by `classes_sql`; {row_filter} is the period.
_READING_SQL = """
WITH live_lists AS MATERIALIZED (  -- which lists name an email / an order (dokani.risk.lists): a handful
  SELECT l.match_kind, l.value, array_agg(DISTINCT l.list_kind ORDER BY l.list_kind) AS kinds
  FROM risk_list_entries l
  WHERE l.business_id = :business_id AND l.removed_at IS NULL
    AND (l.expires_at IS NULL OR l.expires_at > timezone('utc', now()))
  GROUP BY l.match_kind, l.value
),
overrides AS MATERIALIZED (  -- the live band override of each customer: the latest
  SELECT DISTINCT ON (lower(o.customer_email)) lower(o.customer_email) AS email, o.band
  FROM risk_band_overrides o
  WHERE o.business_id = :business_id AND o.removed_at IS NULL
    AND (o.expires_at IS NULL OR o.expires_at > timezone('utc', now()))
  ORDER BY lower(o.customer_email), o.created_at DESC, o.id DESC
),
returns AS (  -- the period's returns: what each says itself, narrowed before the joins
  SELECT x.id, x.business_id, x.created_at, x.status, x.customer_email, lower(x.customer_email) AS email,
         x.order_id, x.order_value, x.product_category, x.days_since_purchase, x.fraud_flags,
         fl.keys AS flags, fl.n AS flag_count,
         CASE WHEN x.plain_words THEN x.reason_code END AS reason,
         CASE WHEN NOT x.plain_words THEN x.words END AS words,
         CASE WHEN x.urls IS NULL OR cardinality(x.urls) = 0 THEN 0 WHEN {plain_links} THEN {evidence} END AS evidence,
         CASE WHEN x.urls IS NOT NULL AND cardinality(x.urls) > 0 AND NOT ({plain_links}) THEN x.urls END AS links
  FROM (SELECT r.id, r.business_id, r.created_at, r.status, r.customer_email, r.order_id, r.order_value,
               r.product_category,
               r.days_since_purchase, r.fraud_flags, r.reason_code, r.reason_for_return AS words,
               coalesce(octet_length(r.reason_for_return) = char_length(r.reason_for_return), true) AS plain_words,
               r.evidence_urls AS urls, array_to_string(r.evidence_urls, E'\\n') || E'\\n' AS joined
        FROM return_requests r
        WHERE r.business_id = :business_id {row_filter}
        OFFSET 0) x
  LEFT JOIN LATERAL {flag_keys} fl ON true
  OFFSET 0  -- each expression computed once per return, not once per use
),
facts AS (  -- with the order, the customer's history and profile, and the lists naming them
  SELECT x.id, x.created_at, x.status, x.reason, x.words, x.evidence, x.links, x.fraud_flags, x.flags, x.flag_count,
         coalesce(nullif(m.product_category, ''), x.product_category) AS category,
         coalesce(m.order_value, x.order_value, 0) AS value,
         -- the value as the engine compares it (a float; NaN is above no threshold there)
         CAST(CASE WHEN coalesce(m.order_value, x.order_value, 0) = 'NaN' THEN 0
                   ELSE coalesce(m.order_value, x.order_value, 0) END AS float8) AS compared,
         CASE WHEN m.purchase_date IS NOT NULL AND x.created_at IS NOT NULL
              THEN greatest(0, extract(day FROM x.created_at - m.purchase_date))::bigint
              ELSE x.days_since_purchase END AS days,
         {previous_returns} AS previous_returns, {returns_30d} AS returns_30d, {previous_denied} AS previous_denied,
         p.risk_score AS score, p.fraud_indicators, coalesce(fi.n, 0) AS indicators, fi.keys IS NULL AS odd_indicators,
         (m.id IS NOT NULL) AS known, coalesce(le.kinds, '{{}}') || coalesce(lo.kinds, '{{}}') AS lists, ov.band
  FROM returns x
  LEFT JOIN return_history h ON h.return_id = x.id
  LEFT JOIN mock_orders m ON m.order_id = x.order_id AND (m.business_id = :business_id OR m.business_id IS NULL)
  LEFT JOIN customer_risk_profiles p ON p.business_id = :business_id AND p.customer_email = x.customer_email
  LEFT JOIN LATERAL {indicator_keys} fi ON true
  LEFT JOIN live_lists le ON le.match_kind = 'email' AND le.value = x.email
  LEFT JOIN live_lists lo ON lo.match_kind = 'order' AND lo.value = x.order_id
  LEFT JOIN overrides ov ON ov.email = x.email
  OFFSET 0
),
reading AS (
  SELECT f.id, f.created_at, f.status, f.category, f.value, f.compared, f.reason, f.words, f.evidence, f.links, f.flags,
         CASE WHEN f.days IS NULL THEN -1 ELSE {days_side} END AS days_side,
         {value_side} AS value_side,
         CASE WHEN f.flags IS NULL THEN CAST(f.fraud_flags AS text) END AS raw_flags, f.lists,
         (f.band IS NULL AND f.score IS NOT NULL AND NOT {plain_score}) OR f.flags IS NULL OR f.odd_indicators AS odd,
         -- engine.assess_risk in thousandths, without what depends on the policy (high-risk category, escalation)
         100 + CASE f.band WHEN 'low' THEN :band_low WHEN 'medium' THEN :band_medium WHEN 'high' THEN :band_high
               ELSE CASE WHEN f.score IS NULL OR NOT {plain_score} THEN 0 ELSE {profile_milli} END END
             + least(200, 40 * f.previous_returns)
             + CASE WHEN f.returns_30d >= 2 THEN least(150, 50 * f.returns_30d) ELSE 0 END
             + least(150, 50 * f.previous_denied)
             + least(200, 70 * f.indicators)
             + least(300, 150 * coalesce(f.flag_count, 0))
             + CASE WHEN f.known THEN 0 ELSE 100 END AS risk_base,
         f.band, f.score, f.previous_returns, f.returns_30d, f.previous_denied, f.fraud_indicators, f.fraud_flags,
         f.known
  FROM facts f
  OFFSET 0
),
scored AS (
  SELECT g.id, g.created_at, g.status, g.category, g.value, g.reason, g.words, g.evidence, g.links, g.flags,
         g.days_side, g.value_side, g.raw_flags, g.lists, g.odd, {risk_columns},
         -- created_at in microseconds since 1970, the order of ORDER BY created_at (NULL last)
         CASE WHEN g.created_at IS NULL THEN 9223372036854775807
              WHEN g.created_at = '-infinity' THEN -9223372036854775807
              WHEN g.created_at = 'infinity' THEN 9223372036854775806
              ELSE CAST(extract(epoch FROM g.created_at) * 1000000 AS bigint) END AS at,
         CASE WHEN g.odd THEN concat_ws('|', g.band, CAST(g.score AS text), g.previous_returns, g.returns_30d,
              g.previous_denied, CAST(g.fraud_indicators AS text), CAST(g.fraud_flags AS text), g.known) END AS inputs
  FROM reading g
  OFFSET 0
)
SELECT days_side, value_side, evidence, {risk_codes}, category, reason, flags, lists, words, links, raw_flags,
       inputs AS risk_inputs,
       count(*) AS n, sum(value) AS value,
       count(*) FILTER (WHERE status IN ('approved', 'completed')) AS recorded_approved,
       count(*) FILTER (WHERE status = 'denied') AS recorded_denied,
       {risk_ranges},
       min(id) AS representative, array_agg(id) AS ids, array_agg(at) AS at
FROM scored
GROUP BY days_side, value_side, evidence, {risk_code_names}, category, reason, flags, lists, words, links, raw_flags,
         inputs
"""

_PLAIN_LINKS = ("array_ndims(x.urls) = 1 AND octet_length(x.joined) = char_length(x.joined) "
                "AND octet_length(x.joined) - octet_length(replace(x.joined, E'\\n', '')) = cardinality(x.urls)")


def milli_cutoffs(rules: PolicyRules) -> tuple[int, int]:
    """The policy's risk thresholds in thousandths: the least score (k / 1000) it denies at, the greatest it may
    approve at, compared as the engine compares its rounded float score."""
    t = rules.risk_thresholds
    deny = next((k for k in range(1001) if k / 1000 >= t.auto_deny_min), 1001)
    approve = next((k for k in range(1000, -1, -1) if k / 1000 <= t.auto_approve_max), -1)
    return deny, approve


def classes_sql(policies: Sequence[PolicyRules], row_filter: str) -> tuple[str, dict[str, Any]]:
    """The grouping query for `policies` (in order: ``risk_code_0``, ``risk_code_1``, ...) and its parameters."""
    cuts = Cuts.of(policies)
    params: dict[str, Any] = {}
    days, values = [], []
    for i, w in enumerate(cuts.windows):
        params[f"w{i}"] = w
        days.append(f"(f.days > :w{i})::int")
    for i, t in enumerate(cuts.values):
        params[f"t{i}"] = t
        values.append(f"(f.compared > :t{i})::int")
    for band, mid in BAND_MIDPOINT.items():  # what assess_risk counts a hand-set band as, rounded as it does
        params[f"band_{band}"] = int(Decimal(repr(round(0.30 * mid, 3))) * 1000)
    required = sorted({e for p in policies for e in p.required_evidence})  # the only kinds the clauses ask about
    evidence = " + ".join(f"{EVIDENCE_BITS[k]} * (x.joined {_PATTERNS[k][0]} '{_PATTERNS[k][1]}')::int"
                          for k in required) or "0"
    risk, codes, names, ranges = [], [], [], []
    for i, p in enumerate(policies):
        params[f"high_{i}"] = list(p.high_risk_categories)
        params[f"esc_{i}"] = float(p.auto_escalation_threshold)
        params[f"deny_{i}"], params[f"approve_{i}"] = milli_cutoffs(p)
        risk.append(f"least(1000, greatest(0, g.risk_base + CASE WHEN g.category = ANY(CAST(:high_{i} AS text[])) "
                    f"THEN 100 ELSE 0 END + CASE WHEN g.compared > :esc_{i} THEN 50 ELSE 0 END)) AS risk_{i}")
        codes.append(f"CASE WHEN odd THEN NULL WHEN risk_{i} >= :deny_{i} THEN 2 "
                     f"WHEN risk_{i} <= :approve_{i} THEN 0 ELSE 1 END AS risk_code_{i}")
        names.append(f"risk_code_{i}")
        ranges.append(f"min(risk_{i}) FILTER (WHERE NOT odd) AS risk_min_{i}, "
                      f"max(risk_{i}) FILTER (WHERE NOT odd) AS risk_max_{i}")
    sql = _READING_SQL.format(
        flag_keys=_set_keys("x.fraud_flags"), indicator_keys=_set_keys("p.fraud_indicators"),
        previous_returns=stored_or_computed("prior_returns", "x"),
        previous_denied=stored_or_computed("prior_denied", "x"), returns_30d=stored_or_computed("prior_30d", "x"),
        row_filter=row_filter,
        days_side=" + ".join(days), value_side=" + ".join(values), plain_links=_PLAIN_LINKS, evidence=evidence,
        plain_score=_PLAIN_SCORE, profile_milli=_PROFILE_MILLI,
        risk_columns=", ".join(risk), risk_codes=", ".join(codes),
        risk_code_names=", ".join(names), risk_ranges=", ".join(ranges),
    )
    return sql, params


@dataclass
class ReturnClass:
    """One class of returns that decide alike under the policies compared, as Postgres grouped them."""

    category: str | None
    days_side: int  # -1: days since purchase unknown; else how many of ``Cuts.windows`` the days exceed
    value_side: int  # how many of ``Cuts.values`` the order value exceeds
    reason: str | None  # the stored reason code, None when `words` are sent instead
    words: str | None
    evidence: int | None  # EVIDENCE_BITS, None when the `links` are sent instead
    links: list[str] | None
    flags: list[str] | None  # the fraud flags set, None when `raw_flags` are sent instead
    raw_flags: str | None
    lists: list[str]
    risk_codes: tuple[int | None, ...]  # per policy: 0 at most auto_approve_max, 2 at least auto_deny_min, else 1
    risk_inputs: str | None
    n: int
    value: Decimal
    recorded_approved: int
    recorded_denied: int
    risk_ranges: tuple[tuple[int | None, int | None], ...]  # per policy: least and greatest score, in 1/1000
    representative: int  # the return whose full facts stand for the class
    ids: list[int]  # every return of the class
    at: list[int]  # ... and when each was asked for (microseconds, NULL last: the order of created_at, id)


def read_classes(session: Session, business_id: UUID, policies: Sequence[PolicyRules],
                 row_filter: str, params: dict[str, Any]) -> list[ReturnClass]:
    """The classes of the business's returns chosen by `row_filter` (``facts.period_filter``) under `policies`."""
    sql, policy_params = classes_sql(policies, row_filter)
    # The classes are hashed, not sorted: the planner overestimates what hashing the id arrays takes.
    # (An error aborts the transaction, and the setting with it.)
    before = session.execute(text("SELECT current_setting('enable_sort')")).scalar()
    session.execute(text("SET LOCAL enable_sort = off"))
    rows = session.execute(text(sql), {**params, **policy_params, "business_id": business_id}).all()
    session.execute(text("SELECT set_config('enable_sort', :before, true)"), {"before": before})
    k = len(policies)
    out = []
    for r in rows:
        m = r._mapping
        out.append(ReturnClass(
            category=m["category"], days_side=int(m["days_side"]), value_side=int(m["value_side"]),
            reason=m["reason"], words=m["words"], evidence=m["evidence"], links=m["links"], flags=m["flags"],
            raw_flags=m["raw_flags"], lists=list(m["lists"] or ()),
            risk_codes=tuple(m[f"risk_code_{i}"] for i in range(k)), risk_inputs=m["risk_inputs"],
            n=int(m["n"]), value=m["value"], recorded_approved=int(m["recorded_approved"]),
            recorded_denied=int(m["recorded_denied"]),
            risk_ranges=tuple((m[f"risk_min_{i}"], m[f"risk_max_{i}"]) for i in range(k)),
            representative=m["representative"], ids=m["ids"], at=m["at"],
        ))
    return out
