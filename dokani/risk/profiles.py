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

# The one definition of risk bands, used by every page (queue filter, review panel, risk page):
# band -> [low, high); the top band has no upper bound. Low matches the default auto-approve limit.
RISK_BANDS: dict[str, tuple[float, float | None]] = {"low": (0.0, 0.35), "medium": (0.35, 0.7), "high": (0.7, None)}
RISK_BANDS_HELP = "low < 0.35 ≤ medium < 0.70 ≤ high"
SEVERITIES = ("critical", "high", "medium", "low")
CAN_RESOLVE = ("owner", "admin", "reviewer")


def band_of(score: float | None) -> str | None:
    if score is None:
        return None
    return next((name for name, (lo, hi) in RISK_BANDS.items() if float(score) >= lo and (hi is None or float(score) < hi)),
                "low")


class RiskOverview(BaseModel):
    customers: int
    by_band: dict[str, int]
    open_events: dict[str, int]  # severity -> count of unresolved events
    resolved_events: int


class CustomerRow(BaseModel):
    customer_email: str
    risk_score: float | None
    band: str | None
    return_frequency: int | None
    returns: int
    denied: int
    open_events: int
    last_updated: datetime | None


class CustomerPage(BaseModel):
    rows: list[CustomerRow]
    next_cursor: tuple[float, str] | None = None


class CustomerRisk(BaseModel):
    customer_email: str
    risk_score: float | None
    band: str | None
    return_frequency: int | None
    fraud_indicators: dict[str, Any] = Field(default_factory=dict)
    behavior_patterns: dict[str, Any] = Field(default_factory=dict)
    last_updated: datetime | None = None
    returns: pd.DataFrame
    events: pd.DataFrame

    model_config = {"arbitrary_types_allowed": True}


def risk_overview(uow: UnitOfWork) -> RiskOverview:
    s = uow.session
    bands = s.execute(
        text(
            """
            SELECT count(*) AS customers,
                   count(*) FILTER (WHERE risk_score < :medium) AS low,
                   count(*) FILTER (WHERE risk_score >= :medium AND risk_score < :high) AS medium,
                   count(*) FILTER (WHERE risk_score >= :high) AS high
            FROM customer_risk_profiles
            """
        ),
        {"medium": RISK_BANDS["medium"][0], "high": RISK_BANDS["high"][0]},
    ).one()
    events = s.execute(
        text(
            """
            SELECT coalesce(severity, 'medium') AS severity, count(*) FILTER (WHERE NOT coalesce(resolved, false)) AS open,
                   count(*) FILTER (WHERE resolved) AS resolved
            FROM security_events GROUP BY 1
            """
        )
    ).all()
    return RiskOverview(
        customers=bands.customers,
        by_band={"low": bands.low, "medium": bands.medium, "high": bands.high},
        open_events={sev: next((e.open for e in events if e.severity == sev), 0) for sev in SEVERITIES},
        resolved_events=sum(e.resolved for e in events),
    )


def risky_customers(
    uow: UnitOfWork, *, band: str | None = None, search: str | None = None,
    after: tuple[float, str] | None = None, limit: int = 25,
) -> CustomerPage:
    """Customers by risk, highest first; keyset-paginated on (risk_score, email)."""
    clauses = ["TRUE"]
    params: dict[str, Any] = {"limit": limit + 1}
    if band in RISK_BANDS:
        lo, hi = RISK_BANDS[band]
        clauses.append("p.risk_score >= :lo" + (" AND p.risk_score < :hi" if hi is not None else ""))
        params.update(lo=lo, hi=hi)
    if search:
        limits.check_text(search, "search", limits.MAX_SEARCH)  # a NUL byte would reach Postgres
        clauses.append("p.customer_email ILIKE :search")
        params["search"] = f"%{search.strip()}%"
    if after is not None:
        clauses.append("(p.risk_score, p.customer_email) < (:after_score, :after_email)")
        params.update(after_score=after[0], after_email=after[1])
    rows = uow.session.execute(
        text(
            f"""
            SELECT p.customer_email, p.risk_score::float AS risk_score, p.return_frequency, p.last_updated,
                   (SELECT count(*) FROM return_requests r WHERE r.business_id = p.business_id
                      AND r.customer_email = p.customer_email AND NOT r.is_test) AS returns,
                   (SELECT count(*) FROM return_requests r WHERE r.business_id = p.business_id
                      AND r.customer_email = p.customer_email AND r.status = 'denied' AND NOT r.is_test) AS denied,
                   (SELECT count(*) FROM security_events e WHERE e.business_id = p.business_id
                      AND e.customer_email = p.customer_email AND NOT coalesce(e.resolved, false)) AS open_events
            FROM customer_risk_profiles p
            WHERE {' AND '.join(clauses)} AND p.risk_score IS NOT NULL
            ORDER BY p.risk_score DESC, p.customer_email DESC
            LIMIT :limit
            """
        ),
        params,
    ).mappings().all()
    customers = [CustomerRow(**r, band=band_of(r["risk_score"])) for r in rows[:limit]]
    cursor = (customers[-1].risk_score, customers[-1].customer_email) if len(rows) > limit else None
    return CustomerPage(rows=customers, next_cursor=cursor)


def customer_risk(uow: UnitOfWork, email: str) -> CustomerRisk:
    s = uow.session
    profile = s.execute(
        text(
            """
            SELECT customer_email, risk_score::float AS risk_score, return_frequency, fraud_indicators,
                   behavior_patterns, last_updated
            FROM customer_risk_profiles WHERE customer_email = :email
            """
        ),
        {"email": email},
    ).mappings().first()
    returns = s.execute(
        text(
            """
            SELECT public_id, created_at, order_id, status, order_value::float AS order_value, product_category,
                   ai_recommendation, risk_score::float AS risk_score, reason_for_return
            FROM return_requests WHERE customer_email = :email AND NOT is_test ORDER BY created_at DESC LIMIT 200
            """
        ),
        {"email": email},
    ).mappings().all()
    events = s.execute(
        text(
            """
            SELECT id, created_at, event_type, severity, resolved, resolved_at, return_request_id
            FROM security_events WHERE customer_email = :email ORDER BY created_at DESC LIMIT 200
            """
        ),
        {"email": email},
    ).mappings().all()
    if profile is None and not returns:
        raise NotFound(f"No customer {email} in this business.")
    p = dict(profile or {"customer_email": email, "risk_score": None, "return_frequency": None})
    return CustomerRisk(
        customer_email=email,
        risk_score=p.get("risk_score"),
        band=band_of(p.get("risk_score")),
        return_frequency=p.get("return_frequency"),
        fraud_indicators=p.get("fraud_indicators") or {},
        behavior_patterns=p.get("behavior_patterns") or {},
        last_updated=p.get("last_updated"),
        returns=pd.DataFrame(returns, columns=["public_id", "created_at", "order_id", "status", "order_value",
                                               "product_category", "ai_recommendation", "risk_score", "reason_for_return"]),
        events=pd.DataFrame(events, columns=["id", "created_at", "event_type", "severity", "resolved", "resolved_at",
                                             "return_request_id"]),
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
