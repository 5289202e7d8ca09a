"""Customer risk profiles and security events: overview, one customer, resolving an event."""
from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import pandas as pd
from pydantic import BaseModel, Field
from sqlalchemy import text

from db.uow import UnitOfWork
from dokani import audit, limits
from dokani.errors import Conflict, NotAllowed, NotFound
from dokani.risk.bands import RISK_BANDS, RISK_BANDS_HELP, band_of  # noqa: F401  (re-exported: one definition)

SEVERITIES = ("critical", "high", "medium", "low")
CAN_RESOLVE = ("owner", "admin", "reviewer")


class RiskOverview(BaseModel):
    customers: int
    not_scored: int = 0
    by_band: dict[str, int]
    open_events: dict[str, int]  # severity -> count of unresolved events
    resolved_events: int


class CustomerRow(BaseModel):
    customer_email: str
    risk_score: float | None = Field(description="computed here; None when never scored")
    band: str | None
    effective_band: str | None = Field(description="the band override while it lasts, else the computed band")
    overridden: bool = False
    lists: list[str] = Field(default_factory=list)
    return_frequency: int | None
    returns: int
    denied: int
    open_events: int
    last_updated: datetime | None


class CustomerPage(BaseModel):
    rows: list[CustomerRow]
    next_cursor: tuple[int, float, str] | None = None


class CustomerRisk(BaseModel):
    customer_email: str
    risk_score: float | None = Field(description="computed by the console's scorer; None: not scored yet")
    stored_score: float | None = Field(None, description="the score stored with a profile the console never computed")
    band: str | None
    effective_band: str | None
    override: Any = None  # dokani.risk.lists.BandOverride while one is live
    return_frequency: int | None
    fraud_indicators: dict[str, Any] = Field(default_factory=dict)
    behavior_patterns: dict[str, Any] = Field(default_factory=dict)
    factors: list[Any] = Field(default_factory=list)  # dokani.risk.scoring.Factor, largest contribution first
    last_updated: datetime | None = None
    returns: pd.DataFrame
    events: pd.DataFrame

    model_config = {"arbitrary_types_allowed": True}

    @property
    def scored(self) -> bool:
        return self.risk_score is not None


# The ranking reads the columns revision 0016 generates on every profile: ``band_rank`` (2 high .. 0 low, -1 never
# scored here), ``sort_score`` (the computed score, -1 when never scored) and ``returns_count`` (what the last scoring
# counted), in the order of ``customer_risk_profiles_ranking_idx``. A live band override (a small table) is applied
# when reading, so an override that expires needs no write: its customer simply ranks by the computed band again.
_RANK_OF = {band: rank for rank, band in enumerate(("low", "medium", "high"))}
_LIVE_OVERRIDES = """
  live AS MATERIALIZED (  -- the business's live band overrides, one per customer (a small table)
    SELECT DISTINCT ON (lower(o.customer_email)) lower(o.customer_email) AS email, o.band,
           CASE o.band WHEN 'high' THEN 2 WHEN 'medium' THEN 1 ELSE 0 END AS rank
    FROM risk_band_overrides o
    WHERE o.business_id = :b AND o.removed_at IS NULL
      AND (o.expires_at IS NULL OR o.expires_at > timezone('utc', now()))
    ORDER BY lower(o.customer_email), o.created_at DESC, o.id DESC
  )"""
_BAND_OF_RANK = "CASE {r} WHEN 2 THEN 'high' WHEN 1 THEN 'medium' WHEN 0 THEN 'low' END"
_LISTS = ("(SELECT coalesce(array_agg(DISTINCT l.list_kind), '{}') FROM risk_list_entries l "
          "WHERE l.business_id = p.business_id AND l.match_kind = 'email' AND l.value = lower(p.customer_email) "
          "AND l.removed_at IS NULL AND (l.expires_at IS NULL OR l.expires_at > timezone('utc', now())))")
_LIVE_RETURNS = ("(SELECT count(*) FROM return_requests r WHERE r.business_id = p.business_id "
                 "AND r.customer_email = p.customer_email AND NOT r.is_test)")


def risk_overview(uow: UnitOfWork) -> RiskOverview:
    """Customers per effective band (override, else computed); profiles the console never scored counted apart.

    The computed bands are counted from the ranking index alone; each live override then moves its customer."""
    s = uow.session
    counts = dict(s.execute(
        text(
            f"""
            WITH {_LIVE_OVERRIDES},
            moved AS (SELECT p.band_rank, o.rank FROM live o
                      JOIN customer_risk_profiles p ON p.business_id = :b AND lower(p.customer_email) = o.email)
            SELECT rank, sum(n)::bigint FROM (
              SELECT band_rank AS rank, count(*) AS n FROM customer_risk_profiles WHERE business_id = :b GROUP BY 1
              UNION ALL SELECT band_rank, -count(*) FROM moved GROUP BY 1
              UNION ALL SELECT rank, count(*) FROM moved GROUP BY 1
            ) t GROUP BY rank
            """
        ),
        {"b": uow.actor.business_id},
    ).all())
    events = s.execute(
        text(
            """
            SELECT coalesce(severity, 'medium') AS severity, count(*) FILTER (WHERE NOT coalesce(resolved, false)) AS open,
                   count(*) FILTER (WHERE resolved) AS resolved
            FROM security_events WHERE business_id = :b GROUP BY 1
            """
        ),
        {"b": uow.actor.business_id},
    ).all()
    return RiskOverview(
        customers=sum(counts.values()),
        not_scored=counts.get(-1, 0),
        by_band={band: counts.get(rank, 0) for band, rank in _RANK_OF.items()},
        open_events={sev: next((e.open for e in events if e.severity == sev), 0) for sev in SEVERITIES},
        resolved_events=sum(e.resolved for e in events),
    )


def risky_customers(
    uow: UnitOfWork, *, band: str | None = None, search: str | None = None, list_kind: str | None = None,
    min_returns: int = 0, after: tuple[int, float, str] | None = None, limit: int = 25,
) -> CustomerPage:
    """Customers by effective risk (override, else computed band), then score, highest first; never-scored last.

    Keyset-paginated on (band rank, score, email): the customers without a live override are a backward walk of
    the ranking index from the cursor; those with one (few) are ranked by the override's band; the page is the
    first `limit` of both. Only the page's rows get their lists, override and live counts.
    """
    params: dict[str, Any] = {"limit": limit + 1, "b": uow.actor.business_id}
    computed = ["p.business_id = :b", "lower(p.customer_email) NOT IN (SELECT email FROM live)"]
    overridden = ["TRUE"]
    if band in RISK_BANDS:
        computed.append("p.band_rank = :rank")
        overridden.append("o.rank = :rank")
        params["rank"] = _RANK_OF[band]
    elif band == "not scored":
        computed.append("p.band_rank = -1")
        overridden.append("FALSE")  # an override always names a band
    if search:
        limits.check_text(search, "search", limits.MAX_SEARCH)  # a NUL byte would reach Postgres
        computed.append("p.customer_email ILIKE :search")
        overridden.append("p.customer_email ILIKE :search")
        params["search"] = "%" + search.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    source = "customer_risk_profiles p"
    if list_kind:  # few customers are on a list: start from the list's entries
        source = ("(SELECT DISTINCT l.value FROM risk_list_entries l WHERE l.business_id = :b AND l.list_kind = :list "
                  "AND l.match_kind = 'email' AND l.removed_at IS NULL "
                  "AND (l.expires_at IS NULL OR l.expires_at > timezone('utc', now()))) l "
                  "JOIN customer_risk_profiles p ON p.business_id = :b AND lower(p.customer_email) = l.value")
        overridden.append("lower(p.customer_email) IN (SELECT l.value FROM risk_list_entries l WHERE l.business_id = :b "
                          "AND l.list_kind = :list AND l.match_kind = 'email' AND l.removed_at IS NULL "
                          "AND (l.expires_at IS NULL OR l.expires_at > timezone('utc', now())))")
        params["list"] = list_kind
    if min_returns > 0:
        returns = f"coalesce(p.returns_count, {_LIVE_RETURNS})"  # never scored: counted now
        computed.append(f"{returns} >= :min_returns")
        overridden.append(f"{returns} >= :min_returns")
        params["min_returns"] = int(min_returns)
    if after is not None:
        computed.append("(p.band_rank, p.sort_score, p.customer_email) < (:after_rank, :after_score, :after_email)")
        overridden.append("(o.rank, p.sort_score, p.customer_email) < (:after_rank, :after_score, :after_email)")
        params.update(after_rank=int(after[0]), after_score=float(after[1]), after_email=after[2])
    rows = uow.session.execute(
        text(
            f"""
            WITH {_LIVE_OVERRIDES},
            ranked AS (
              (SELECT p.customer_email, p.band_rank AS rank, p.sort_score FROM {source}
               WHERE {' AND '.join(computed)}
               ORDER BY p.band_rank DESC, p.sort_score DESC, p.customer_email DESC LIMIT :limit)
              UNION ALL
              (SELECT p.customer_email, o.rank, p.sort_score
               FROM live o JOIN customer_risk_profiles p ON p.business_id = :b AND lower(p.customer_email) = o.email
               WHERE {' AND '.join(overridden)}
               ORDER BY o.rank DESC, p.sort_score DESC, p.customer_email DESC LIMIT :limit)
            ),
            page AS (SELECT * FROM ranked ORDER BY rank DESC, sort_score DESC, customer_email DESC LIMIT :limit)
            SELECT p.customer_email, CASE WHEN p.band_rank >= 0 THEN p.sort_score END AS risk_score,
                   {_BAND_OF_RANK.format(r="p.band_rank")} AS band,
                   coalesce(o.band, {_BAND_OF_RANK.format(r="p.band_rank")}) AS effective_band,
                   o.band IS NOT NULL AS overridden, {_LISTS} AS lists, p.return_frequency, p.last_updated,
                   c.rank, c.sort_score, {_LIVE_RETURNS} AS returns,
                   (SELECT count(*) FROM return_requests r WHERE r.business_id = p.business_id
                      AND r.customer_email = p.customer_email AND r.status = 'denied' AND NOT r.is_test) AS denied,
                   (SELECT count(*) FROM security_events e WHERE e.business_id = p.business_id
                      AND e.customer_email = p.customer_email AND NOT coalesce(e.resolved, false)) AS open_events
            FROM page c
            JOIN customer_risk_profiles p ON p.business_id = :b AND p.customer_email = c.customer_email
            LEFT JOIN live o ON o.email = lower(p.customer_email)
            ORDER BY c.rank DESC, c.sort_score DESC, c.customer_email DESC
            """
        ),
        params,
    ).mappings().all()
    customers = [CustomerRow(**{k: v for k, v in r.items() if k in CustomerRow.model_fields}) for r in rows[:limit]]
    cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        cursor = (int(last["rank"]), float(last["sort_score"]), last["customer_email"])
    return CustomerPage(rows=customers, next_cursor=cursor)


def customer_risk(uow: UnitOfWork, email: str) -> CustomerRisk:
    from dokani.risk.lists import overrides
    from dokani.risk.scoring import BehaviorPatterns, is_computed

    s = uow.session
    b = uow.actor.business_id
    profile = s.execute(
        text(
            """
            SELECT customer_email, risk_score::float AS risk_score, return_frequency, fraud_indicators,
                   behavior_patterns, last_updated
            FROM customer_risk_profiles WHERE business_id = :b AND customer_email = :email
            """
        ),
        {"email": email, "b": b},
    ).mappings().first()
    returns = s.execute(
        text(
            """
            SELECT id, public_id, created_at, order_id, status, order_value::float AS order_value, product_category,
                   ai_recommendation,
                   CASE WHEN ai_recommendation IS NOT NULL OR triage_details IS NOT NULL THEN risk_score::float END
                     AS risk_score,
                   reason_for_return
            FROM return_requests WHERE business_id = :b AND customer_email = :email AND NOT is_test
            ORDER BY created_at DESC LIMIT 200
            """
        ),
        {"email": email, "b": b},
    ).mappings().all()
    events = s.execute(
        text(
            """
            SELECT e.id, e.created_at, e.event_type, e.severity, e.resolved, e.resolved_at, r.public_id AS return_public_id,
                   e.event_data
            FROM security_events e LEFT JOIN return_requests r ON r.id = e.return_request_id
            WHERE e.business_id = :b AND e.customer_email = :email ORDER BY e.created_at DESC LIMIT 200
            """
        ),
        {"email": email, "b": b},
    ).mappings().all()
    if profile is None and not returns:
        raise NotFound(f"No customer {email} in this business.")
    p = dict(profile or {"customer_email": email, "risk_score": None, "return_frequency": None})
    computed = is_computed(p.get("behavior_patterns"))
    score = p.get("risk_score") if computed else None
    factors = BehaviorPatterns.model_validate(p["behavior_patterns"]).factors if computed else []
    live = next((o for o in overrides(uow, email) if o.live), None)
    band = band_of(score)
    return CustomerRisk(
        customer_email=email,
        risk_score=score,
        stored_score=None if computed else p.get("risk_score"),
        band=band,
        effective_band=live.band if live else band,
        override=live,
        return_frequency=p.get("return_frequency") if computed else None,
        fraud_indicators=p.get("fraud_indicators") or {},
        behavior_patterns=p.get("behavior_patterns") or {},
        factors=sorted(factors, key=lambda f: -f.contribution),
        last_updated=p.get("last_updated"),
        returns=pd.DataFrame(returns, columns=["id", "public_id", "created_at", "order_id", "status", "order_value",
                                               "product_category", "ai_recommendation", "risk_score",
                                               "reason_for_return"]),
        events=pd.DataFrame(events, columns=["id", "created_at", "event_type", "severity", "resolved", "resolved_at",
                                             "return_public_id", "event_data"]),
    )


def open_security_events(uow: UnitOfWork, severity: str | None = None, limit: int = 50) -> pd.DataFrame:
    params: dict[str, Any] = {"limit": limit}
    where = "NOT coalesce(resolved, false)"
    if severity:
        where += " AND severity = :severity"
        params["severity"] = severity
    rows = uow.session.execute(
        text(
            f"""
            SELECT id, created_at, event_type, severity, customer_email, return_request_id, event_data
            FROM security_events WHERE {where}
            ORDER BY CASE severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 ELSE 3 END,
                     created_at DESC
            LIMIT :limit
            """
        ),
        params,
    ).mappings().all()
    return pd.DataFrame(rows, columns=["id", "created_at", "event_type", "severity", "customer_email",
                                       "return_request_id", "event_data"])


def resolve_security_event(uow: UnitOfWork, event_id: UUID, note: str | None = None) -> None:
    """Mark an open event resolved by the acting user; refuse if someone resolved it already."""
    actor = uow.actor
    if uow.session.execute(text("SELECT dokani.member_role(:b)"), {"b": uow.actor.business_id}).scalar() not in CAN_RESOLVE:  # the role from Postgres, not the UI
        raise NotAllowed("Only owners, admins and reviewers can resolve security events.")
    before = uow.session.execute(
        text("SELECT id, resolved, resolved_by, resolved_at FROM security_events WHERE id = :id FOR UPDATE"),
        {"id": event_id},
    ).mappings().first()
    if before is None:
        raise NotFound("No such security event in this business.")
    if before["resolved"]:
        raise Conflict(f"This event was already resolved at {before['resolved_at']:%Y-%m-%d %H:%M} UTC.")
    after = uow.session.execute(
        text(
            """
            UPDATE security_events SET resolved = true, resolved_by = :uid, resolved_at = now() AT TIME ZONE 'utc'
            WHERE id = :id AND NOT coalesce(resolved, false)
            RETURNING id, resolved, resolved_by, resolved_at
            """
        ),
        {"id": event_id, "uid": actor.user_id},
    ).mappings().one()
    audit.record(uow, "resolve", "security_event", event_id, dict(before), dict(after), note)
