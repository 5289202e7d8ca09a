"""Triage in the chat test lab: the one place the agent calls the engine, and the test return it opens.

- ``triage_return``: the engine (``dokani.triage.engine.evaluate``) on an order, the customer's reason and
  evidence, with the session's policy rules and the customer's live history (``customer_history``).
- ``open_test_return``: a ``return_requests`` row marked ``is_test`` (never in the live queue) carrying the
  engine's outcome, plus its audit row, in the caller's transaction.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel
from sqlalchemy import text

from db.uow import UnitOfWork
from dokani import audit
from dokani.lab.orders import OrderInfo
from dokani.models import ReturnRequest
from dokani.policies.rules import PolicyRules
from dokani.triage.engine import ENGINE_ID, CustomerHistory, ReturnFacts, TriageResult, evaluate

AGENT_ID = "dokani-cs-agent/1"


class TriageSummary(BaseModel):
    recommendation: str
    confidence: float
    reason_code: str
    risk_score: float
    policy_violations: list[str]
    risk_factors: list[str]
    rules_fired: list[dict[str, Any]]
    reasoning: str
    status: str


class OpenedReturn(BaseModel):
    id: int
    public_id: UUID
    order_id: str
    status: str


def customer_history(uow: UnitOfWork, email: str) -> CustomerHistory:
    """Live returns only (test returns never count against a customer) plus the risk profile."""
    row = uow.session.execute(
        text(
            """
            SELECT count(*) AS previous_returns,
                   count(*) FILTER (WHERE status = 'denied') AS previous_denied,
                   count(*) FILTER (WHERE created_at >= localtimestamp - interval '30 days') AS recent,
                   (SELECT p.risk_score FROM customer_risk_profiles p
                     WHERE p.business_id = :b AND p.customer_email = :e LIMIT 1) AS risk,
                   (SELECT p.return_frequency FROM customer_risk_profiles p
                     WHERE p.business_id = :b AND p.customer_email = :e LIMIT 1) AS frequency,
                   (SELECT p.fraud_indicators FROM customer_risk_profiles p
                     WHERE p.business_id = :b AND p.customer_email = :e LIMIT 1) AS indicators
            FROM return_requests WHERE business_id = :b AND customer_email = :e AND NOT is_test
            """
        ),
        {"b": uow.actor.business_id, "e": email},
    ).one()
    indicators = row.indicators if isinstance(row.indicators, dict) else {}
    return CustomerHistory(
        previous_returns=int(row.previous_returns or 0),
        previous_denied=int(row.previous_denied or 0),
        recent_returns_30d=int(row.recent or 0),
        profile_risk_score=float(row.risk) if row.risk is not None else None,
        return_frequency=row.frequency,
        fraud_indicators=indicators,
    )


def triage_return(order: OrderInfo, reason_text: str, evidence: list[str], rules: PolicyRules,
                  history: CustomerHistory, now: datetime) -> TriageResult:
    facts = ReturnFacts(
        order_value=order.order_value,
        days_since_purchase=max(0, (now - order.purchase_date).days),
        product_category=order.product_category or None,
        reason_text=reason_text,
        evidence_urls=evidence,
        fraud_flags={},
        order_known=True,
        history=history,
    )
    return evaluate(facts, rules)


def summarise(result: TriageResult) -> TriageSummary:
    """What an agent turn keeps of the engine's result (stored with the turn in ``chat_messages.metadata``)."""
    return TriageSummary(
        recommendation=result.recommendation, confidence=result.confidence, reason_code=result.reason_code,
        risk_score=result.risk_score, policy_violations=result.policy_violations, risk_factors=result.risk_factors,
        rules_fired=[c.model_dump(mode="json") for c in result.rules_fired], reasoning=result.reasoning,
        status=result.status,
    )


class TestReturnDraft(BaseModel):
    """Everything a test return records besides the engine's result: who, which session, what was said."""

    __test__ = False  # not a pytest test class despite the name

    business_id: UUID
    session_id: UUID | None
    persona_id: UUID | None
    customer_email: str
    reason_text: str | None
    evidence: list[str]
    messages: list[dict]
    policy_version: str
    now: datetime
    processing_time_ms: int


def open_test_return(uow: UnitOfWork, order: OrderInfo, result: TriageResult, history: CustomerHistory,
                     draft: TestReturnDraft) -> OpenedReturn:
    """Open the test return (``is_test``) with the engine's outcome, and audit it, in the caller's transaction."""
    decided = result.recommendation in ("auto_approve", "auto_deny")
    row = ReturnRequest(
        business_id=draft.business_id,
        order_id=order.order_id,
        customer_email=draft.customer_email,
        reason_for_return=draft.reason_text,
        status=result.status,
        evidence_urls=list(draft.evidence) or None,
        conversation_log={"chat_session_id": str(draft.session_id) if draft.session_id else None,
                          "messages": draft.messages},
        ai_recommendation=result.recommendation,
        risk_score=result.risk_score,
        fraud_flags=result.fraud_flags,
        triage_agent_id=ENGINE_ID,
        customer_service_agent_id=f"{AGENT_ID}:{draft.persona_id}" if draft.persona_id else AGENT_ID,
        processing_time_ms=draft.processing_time_ms,
        escalation_reason=result.reasoning if result.recommendation == "human_review" else None,
        policy_version_used=draft.policy_version,
        admin_decision_at=draft.now if decided else None,
        days_since_purchase=max(0, (draft.now - order.purchase_date).days),
        order_value=order.order_value,
        product_category=order.product_category,
        ai_reasoning=result.reasoning,
        policy_violations=result.policy_violations,
        risk_factors=result.risk_factors,
        approved_at=draft.now if result.recommendation == "auto_approve" else None,
        denied_at=draft.now if result.recommendation == "auto_deny" else None,
        return_history=history.previous_returns,
        is_test=True,
        test_session_id=draft.session_id,
    )
    uow.session.add(row)
    uow.session.flush()
    uow.session.refresh(row)
    audit.record(
        uow, "return_request.open_test", "return_requests", row.id, None,
        {"order_id": row.order_id, "status": row.status, "is_test": True, "chat_session_id": draft.session_id,
         "policy_version": draft.policy_version, "recommendation": result.recommendation},
        note="opened by the customer-service agent in the chat test lab",
    )
    return OpenedReturn(id=row.id, public_id=row.public_id, order_id=row.order_id, status=row.status or result.status)
