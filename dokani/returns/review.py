"""The review panel's data for one return: the request, order, evidence, conversation, the AI's reading,
the customer's history and risk, the audit timeline, and what a reviewer may do now.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from db.uow import UnitOfWork
from dokani import audit
from dokani.errors import NotFound
from dokani.models import FileUpload
from dokani.returns.evidence import EvidenceItem, TranscriptTurn, classify_evidence, transcript_of, with_inline_previews
from dokani.returns.rows import ENTITY, acting_business, fetch_return
from dokani.returns.status import actions_for, label


class OrderInfo(BaseModel):
    order_id: str
    product_name: str | None = None
    product_category: str | None = None
    purchase_date: datetime | None = None
    purchase_price: float | None = None
    quantity: int | None = None
    order_value: float | None = None
    order_status: str | None = None


class RuleFired(BaseModel):
    rule: str
    outcome: str
    detail: str
    inputs: dict[str, Any] = Field(default_factory=dict)


class OtherReturn(BaseModel):
    public_id: UUID
    created_at: datetime | None
    status: str | None
    order_id: str
    order_value: float
    reason_for_return: str | None


class RiskProfile(BaseModel):
    risk_score: float | None = Field(description="computed by the console's scorer; None: not scored yet")
    stored_score: float | None = Field(None, description="a score stored with a profile the console never computed")
    return_frequency: int | None
    fraud_indicators: dict[str, Any] = Field(default_factory=dict)
    behavior_patterns: dict[str, Any] = Field(default_factory=dict)
    last_updated: datetime | None = None


class SecurityEventInfo(BaseModel):
    event_type: str
    severity: str | None
    resolved: bool
    created_at: datetime | None
    event_data: dict[str, Any] = Field(default_factory=dict)


class TimelineEntry(BaseModel):
    at: datetime
    actor: str | None
    action: str
    from_status: str | None = None
    to_status: str | None = None
    note: str | None = None


class ReturnDetail(BaseModel):
    """Everything the review panel shows about one return."""

    id: int
    public_id: UUID
    business_id: UUID
    version: str
    created_at: datetime | None
    age_hours: float | None
    status: str | None
    status_label: str
    order_id: str
    customer_email: str
    reason_for_return: str | None
    reason_code: str
    order: OrderInfo | None
    order_value: float
    product_category: str | None
    days_since_purchase: int | None
    evidence: list[EvidenceItem]
    transcript: list[TranscriptTurn]
    ai_recommendation: str | None
    ai_confidence: float | None
    ai_reasoning: str | None
    rules_fired: list[RuleFired] | None = Field(None, description="None when no rule trace was stored")
    policy_violations: list[Any]
    risk_factors: list[Any]
    risk_score: float | None
    fraud_flags: dict[str, Any]
    policy_version_used: str | None
    triage_agent_id: str | None
    processing_time_ms: int | None
    admin_notes: str | None
    escalation_reason: str | None
    admin_decision_at: datetime | None
    approved_at: datetime | None
    denied_at: datetime | None
    other_returns: list[OtherReturn]
    other_returns_total: int
    risk_profile: RiskProfile | None
    security_events: list[SecurityEventInfo]
    timeline: list[TimelineEntry]
    actions: list[str] = Field(description="what a reviewer may do now")
    is_test: bool = Field(False, description="opened in the chat test lab; never in the live queue")


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else ({} if value is None else {"value": value})


def locate_return(uow: UnitOfWork, public_id: str | UUID) -> UUID | None:
    """The business of a return the user may see in any of their businesses (deep links); None otherwise.

    Call with a unit of work whose actor has no business selected, so every membership counts.
    """
    try:
        pid = UUID(str(public_id).strip())
    except ValueError:
        return None
    return uow.session.execute(
        text("SELECT business_id FROM return_requests WHERE public_id = :p"), {"p": pid}
    ).scalar()


def timeline(uow: UnitOfWork, return_id: int) -> list[TimelineEntry]:
    """Every decision and triage the console recorded for this return, oldest first."""
    entries = []
    for row in audit.history(uow, ENTITY, return_id):
        before, after = row.before or {}, row.after or {}
        entries.append(TimelineEntry(
            at=row.created_at, actor=row.actor_email or (str(row.actor_id) if row.actor_id else None), action=row.action,
            from_status=before.get("status"), to_status=after.get("status"), note=row.note,
        ))
    return entries


def _evidence(session, business_id: UUID, urls: list[str]) -> list[EvidenceItem]:
    items = [classify_evidence(u) for u in urls]
    images = [i.url for i in items if i.kind == "image"]
    uploaded = set(session.scalars(select(FileUpload.file_url).where(
        FileUpload.business_id == business_id, FileUpload.file_url.in_(images)))) if images else set()
    return with_inline_previews(items, uploaded)


def return_detail(uow: UnitOfWork, public_id: str | UUID) -> ReturnDetail:
    """The review panel's data for one return of the current business."""
    business_id = acting_business(uow)
    try:
        pid = UUID(str(public_id).strip())
    except ValueError:
        raise NotFound("That is not a return id: check the link.") from None
    session = uow.session
    r = fetch_return(session, business_id, public_id=pid)
    if r is None:
        raise NotFound("No return with that id in this business.")
    others, others_total = _other_returns(session, business_id, r)
    return ReturnDetail(
        id=r["id"], public_id=r["public_id"], business_id=r["business_id"], version=r["version"],
        created_at=r["created_at"], age_hours=round(float(r["age_hours"]), 1) if r["age_hours"] is not None else None,
        status=r["status"], status_label=label(r["status"]), order_id=r["order_id"], customer_email=r["customer_email"],
        reason_for_return=r["reason_for_return"], reason_code=r["reason_code"],
        order=_order(session, business_id, r["order_id"]),
        order_value=float(r["order_value"] or 0), product_category=r["product_category"],
        days_since_purchase=r["days_since_purchase"],
        evidence=_evidence(session, business_id, r["evidence_urls"] or []),
        transcript=transcript_of(r["conversation_log"]),
        **_ai_reading(r),
        admin_notes=r["admin_notes"], escalation_reason=r["escalation_reason"],
        admin_decision_at=r["admin_decision_at"], approved_at=r["approved_at"], denied_at=r["denied_at"],
        other_returns=others, other_returns_total=others_total,
        risk_profile=_risk_profile(session, business_id, r["customer_email"]),
        security_events=_security_events(session, r["id"]),
        timeline=timeline(uow, r["id"]),
        actions=actions_for(r["status"]),
        is_test=bool(r.get("is_test")),
    )


def _ai_reading(r: Any) -> dict[str, Any]:
    """What the triage engine stored with the return: recommendation, reasoning, rule trace, risk."""
    details = r.get("triage_details") or {}
    rules = details.get("rules_fired") if isinstance(details, dict) else None
    return dict(
        ai_recommendation=r["ai_recommendation"],
        ai_confidence=float(r["ai_confidence"]) if r.get("ai_confidence") is not None else None,
        ai_reasoning=r["ai_reasoning"],
        rules_fired=[RuleFired(**c) for c in rules] if isinstance(rules, list) else None,
        policy_violations=_as_list(r["policy_violations"]), risk_factors=_as_list(r["risk_factors"]),
        # the column's default (0.5) is not a measurement: a return has a risk once the engine has triaged it
        risk_score=(float(r["risk_score"]) if r["risk_score"] is not None
                    and (r["ai_recommendation"] is not None or r.get("triage_details") is not None) else None),
        fraud_flags=_as_dict(r["fraud_flags"]), policy_version_used=r["policy_version_used"],
        triage_agent_id=r["triage_agent_id"], processing_time_ms=r["processing_time_ms"],
    )


def _order(session: Session, business_id: UUID, order_id: str) -> OrderInfo | None:
    """The order as the shop's records know it; None when the order is not in them."""
    order = session.execute(
        text(
            "SELECT order_id, product_name, product_category, purchase_date, purchase_price, quantity, order_value, "
            "order_status FROM mock_orders WHERE order_id = :o AND (business_id = :b OR business_id IS NULL) LIMIT 1"
        ),
        {"o": order_id, "b": business_id},
    ).mappings().first()
    if not order:
        return None
    return OrderInfo(**{k: (float(v) if k in ("purchase_price", "order_value") and v is not None else v)
                        for k, v in order.items()})


def _other_returns(session: Session, business_id: UUID, r: Any) -> tuple[list[OtherReturn], int]:
    """The customer's latest 20 other live returns in this business, and how many there are in all."""
    others = session.execute(
        text(
            "SELECT public_id, created_at, status, order_id, coalesce(order_value, 0) AS order_value, reason_for_return, "
            "count(*) OVER () AS total FROM return_requests WHERE business_id = :b AND customer_email = :e AND id <> :id "
            "AND NOT is_test "
            "ORDER BY created_at DESC, id DESC LIMIT 20"
        ),
        {"b": business_id, "e": r["customer_email"], "id": r["id"]},
    ).mappings().all()
    listed = [OtherReturn(public_id=o["public_id"], created_at=o["created_at"], status=o["status"],
                          order_id=o["order_id"], order_value=float(o["order_value"]),
                          reason_for_return=o["reason_for_return"]) for o in others]
    return listed, int(others[0]["total"]) if others else 0


def _risk_profile(session: Session, business_id: UUID, customer_email: str) -> RiskProfile | None:
    profile = session.execute(
        text(
            "SELECT risk_score, return_frequency, fraud_indicators, behavior_patterns, last_updated "
            "FROM customer_risk_profiles WHERE business_id = :b AND customer_email = :e "
            "ORDER BY last_updated DESC NULLS LAST LIMIT 1"
        ),
        {"b": business_id, "e": customer_email},
    ).mappings().first()
    if not profile:
        return None
    from dokani.risk.scoring import is_computed

    stored = float(profile["risk_score"]) if profile["risk_score"] is not None else None
    computed = is_computed(profile["behavior_patterns"])
    return RiskProfile(
        risk_score=stored if computed else None, stored_score=None if computed else stored,
        return_frequency=profile["return_frequency"], fraud_indicators=_as_dict(profile["fraud_indicators"]),
        behavior_patterns=_as_dict(profile["behavior_patterns"]), last_updated=profile["last_updated"],
    )


def _security_events(session: Session, return_id: int) -> list[SecurityEventInfo]:
    events = session.execute(
        text(
            "SELECT event_type, severity, coalesce(resolved, false) AS resolved, created_at, event_data "
            "FROM security_events WHERE return_request_id = :id ORDER BY created_at"
        ),
        {"id": return_id},
    ).mappings().all()
    return [SecurityEventInfo(event_type=e["event_type"], severity=e["severity"], resolved=e["resolved"],
                              created_at=e["created_at"], event_data=_as_dict(e["event_data"])) for e in events]


def policy_versions(uow: UnitOfWork) -> list[tuple[str, bool]]:
    """The business's policy versions, newest first, with which one is active (for choosing one to triage under)."""
    rows = uow.session.execute(
        text("SELECT version, coalesce(is_active, false) FROM policies WHERE business_id = :b "
             "ORDER BY is_active DESC NULLS LAST, created_at DESC, id DESC"),
        {"b": acting_business(uow)},
    ).all()
    seen: dict[str, bool] = {}
    for version, active in rows:
        seen.setdefault(version, bool(active))
    return list(seen.items())

