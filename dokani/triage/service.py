"""Triage written back: run the engine on stored returns and record what it decided, and why.

For each return: the AI columns (``ai_recommendation``, ``ai_reasoning``, ``ai_confidence``, ``triage_details``
with every rule clause, ``policy_violations``, ``risk_factors``, ``risk_score``, ``fraud_flags``,
``policy_version_used``, ``triage_agent_id``, ``processing_time_ms``) and the order facts
(``days_since_purchase``, ``order_value``, ``product_category``, from ``mock_orders`` when the order is known).
The status moves only from ``pending_triage``: to ``approved`` / ``denied`` where the policy lets the engine
decide, otherwise to ``pending_review``. Suspicious patterns open one ``security_events`` row per return
and type. Every write has an audit row. The customer's history the engine read is kept beside the triaged returns
(``dokani.triage.history``), for backtests to read instead of computing it.
"""
from __future__ import annotations

import json
import math
import time
from datetime import datetime, timezone
from typing import Any, Callable
from uuid import UUID

from pydantic import BaseModel, Field, TypeAdapter
from sqlalchemy import text

from db.uow import UnitOfWork
from dokani import audit
from dokani.errors import Invalid, NotAllowed, NotFound
from dokani.policies.rules import LoadedPolicy, load_policy
from dokani.triage.facts import ReturnWithFacts, facts_for_return, iter_facts
from dokani.triage.history import fill_history_counters
from dokani.returns.status import APPROVED, DENIED, PENDING_REVIEW, PENDING_TRIAGE, may_triage_move
from dokani.returns.decisions import require_decider
from dokani.returns.rows import ENTITY
from dokani.risk.scoring import refresh_customers
from dokani.triage.engine import ENGINE_ID, Clause, TriageResult, evaluate

Progress = Callable[[int, int], None]
RETRIAGE_STATUSES = (PENDING_TRIAGE, PENDING_REVIEW)
VELOCITY_30D = 3  # this many other returns in 30 days is a pattern worth a security event


class SuspiciousPattern(BaseModel):
    event_type: str
    severity: str
    detail: str
    data: dict[str, Any] = Field(default_factory=dict)


class TriageOutcome(BaseModel):
    id: int
    public_id: UUID
    recommendation: str
    confidence: float
    risk_score: float
    status_before: str | None
    status_after: str | None
    policy_version: str
    security_events_opened: list[str] = Field(default_factory=list)
    written: bool = Field(True, description="False when the return changed meanwhile and was left alone")


class BulkTriageSummary(BaseModel):
    business_id: UUID
    policy_version: str | None
    total: int
    triaged: int = 0
    auto_approved: int = 0
    auto_denied: int = 0
    to_review: int = 0
    skipped: int = Field(0, description="returns that left pending_triage while the run was going")
    security_events_opened: int = 0
    seconds: float = 0.0

    def describe(self) -> str:
        if self.total == 0:
            return "Nothing to triage: no return is waiting in pending_triage."
        return (
            f"Triaged {self.triaged} of {self.total} under policy {self.policy_version}: "
            f"{self.auto_approved} approved, {self.auto_denied} denied automatically, {self.to_review} to review"
            + (f", {self.skipped} skipped (changed meanwhile)" if self.skipped else "")
            + f"; {self.security_events_opened} security event(s) opened, in {self.seconds:.1f} s."
        )


def suspicious_patterns(item: ReturnWithFacts, result: TriageResult, policy: LoadedPolicy) -> list[SuspiciousPattern]:
    """Patterns in one triaged return that deserve a security event."""
    facts, rules = item.facts, policy.rules
    found: list[SuspiciousPattern] = []
    if result.fraud_flags:
        watched = sorted(f for f in result.fraud_flags if f in rules.fraud_flags)
        found.append(SuspiciousPattern(
            event_type="return_fraud_flags", severity="high" if watched else "medium",
            detail="fraud flags on the return: " + ", ".join(sorted(result.fraud_flags)),
            data={"flags": result.fraud_flags, "watched_by_policy": watched},
        ))
    if result.risk_score >= rules.risk_thresholds.auto_deny_min:
        found.append(SuspiciousPattern(
            event_type="high_risk_return", severity="high",
            detail=f"risk {result.risk_score:.2f} at or above {rules.risk_thresholds.auto_deny_min:.2f}",
            data={"risk_score": result.risk_score, "risk_factors": result.risk_factors},
        ))
    if facts.history.recent_returns_30d >= VELOCITY_30D:
        found.append(SuspiciousPattern(
            event_type="return_velocity", severity="medium",
            detail=f"{facts.history.recent_returns_30d} other returns in the last 30 days",
            data={"recent_returns_30d": facts.history.recent_returns_30d},
        ))
    if not facts.order_known:
        found.append(SuspiciousPattern(
            event_type="unknown_order", severity="medium", detail="the order id matches no known order",
            data={"order_id": item.order_id},
        ))
    return found


def _policy(uow: UnitOfWork, business_id: UUID, version: str | None) -> LoadedPolicy:
    policy = load_policy(uow.session, business_id, version)
    if policy is None:
        if version:
            raise NotFound(f"This business has no policy version {version!r}.")
        raise Invalid("This business has no active return policy: activate one on the Policies page, then triage.",
                      {"policy": "no active version"})
    return policy


# One serializer call for a whole list (what ``model_dump(mode="json")`` of each item gives, in a fraction of the time).
_CLAUSES = TypeAdapter(list[Clause])
_PATTERNS = TypeAdapter(list[SuspiciousPattern])


def _details(result: TriageResult, policy: LoadedPolicy, patterns: list[SuspiciousPattern]) -> dict[str, Any]:
    return {
        "engine": ENGINE_ID,
        "evaluated_at": datetime.now(timezone.utc).replace(tzinfo=None).isoformat(timespec="seconds"),
        "policy_id": policy.id,
        "policy_version": policy.version,
        "recommendation": result.recommendation,
        "confidence": result.confidence,
        "reason_code": result.reason_code,
        "rules_fired": _CLAUSES.dump_python(result.rules_fired, mode="json"),
        "suspicious": _PATTERNS.dump_python(patterns, mode="json") if patterns else [],
    }


def _write(uow: UnitOfWork, item: ReturnWithFacts, result: TriageResult, policy: LoadedPolicy, elapsed_ms: int,
           note: str) -> TriageOutcome:
    """Write one triage result, if the return is still in the status it was read in."""
    patterns = suspicious_patterns(item, result, policy)
    moves = item.status == PENDING_TRIAGE
    target = result.status if moves else item.status
    if moves and not may_triage_move(item.status, target):
        target = PENDING_REVIEW
    written = _update_return(uow, item, result, policy, elapsed_ms, patterns, target=target, moves=moves)
    outcome = TriageOutcome(
        id=item.id, public_id=item.public_id, recommendation=result.recommendation, confidence=result.confidence,
        risk_score=result.risk_score, status_before=item.status, status_after=target, policy_version=policy.version,
        written=written,
    )
    if not written:
        outcome.status_after = None
        return outcome
    outcome.security_events_opened.extend(_open_security_events(uow, item, patterns))
    audit.record(
        uow, "triage", ENTITY, item.id,
        before={"status": item.status, "ai_recommendation": item.ai_recommendation,
                "policy_version_used": item.policy_version_used},
        after={"status": target, "ai_recommendation": result.recommendation, "confidence": result.confidence,
               "risk_score": result.risk_score, "policy_version_used": policy.version},
        note=note,
    )
    return outcome


def _update_return(uow: UnitOfWork, item: ReturnWithFacts, result: TriageResult, policy: LoadedPolicy,
                   elapsed_ms: int, patterns: list[SuspiciousPattern], *, target: str | None, moves: bool) -> bool:
    """The AI columns, the order facts and the status, only if the status is still the one read; True if written."""
    facts = item.facts
    row = uow.session.execute(
        text(
            """
            UPDATE return_requests SET
              ai_recommendation = :rec, ai_reasoning = :reasoning, ai_confidence = :confidence,
              triage_details = CAST(:details AS jsonb), policy_violations = CAST(:violations AS jsonb),
              risk_factors = CAST(:factors AS jsonb), risk_score = :risk, fraud_flags = CAST(:flags AS jsonb),
              policy_version_used = :version, triage_agent_id = :agent, processing_time_ms = :ms,
              days_since_purchase = :days, order_value = :value, product_category = :category,
              status = :target,
              approved_at = CASE WHEN :moves AND :target = 'approved' THEN timezone('utc', now()) ELSE approved_at END,
              denied_at = CASE WHEN :moves AND :target = 'denied' THEN timezone('utc', now()) ELSE denied_at END
            WHERE id = :id AND status IS NOT DISTINCT FROM :expected
            RETURNING status
            """
        ),
        {
            "rec": result.recommendation, "reasoning": result.reasoning, "confidence": result.confidence,
            "details": json.dumps(_details(result, policy, patterns)),
            "violations": json.dumps(result.policy_violations), "factors": json.dumps(result.risk_factors),
            "risk": result.risk_score, "flags": json.dumps(facts.fraud_flags, default=str),
            "version": policy.version, "agent": ENGINE_ID, "ms": elapsed_ms,
            "days": facts.days_since_purchase, "value": facts.order_value, "category": facts.product_category,
            "target": target, "moves": moves, "id": item.id, "expected": item.status,
        },
    ).first()
    return row is not None


def _open_security_events(uow: UnitOfWork, item: ReturnWithFacts, patterns: list[SuspiciousPattern]) -> list[str]:
    """One security event per return and type (never a second); the types opened now."""
    opened_types = []
    for p in patterns:
        opened = uow.session.execute(
            text(
                """
                INSERT INTO security_events (event_type, business_id, customer_email, return_request_id, severity, event_data)
                SELECT :t, :b, :e, :rid, :sev, CAST(:data AS jsonb)
                WHERE NOT EXISTS (SELECT 1 FROM security_events WHERE return_request_id = :rid AND event_type = :t)
                ON CONFLICT DO NOTHING
                RETURNING id
                """
            ),
            {"t": p.event_type, "b": uow.actor.business_id, "e": item.customer_email, "rid": item.id, "sev": p.severity,
             "data": json.dumps({"detail": p.detail, "source": ENGINE_ID, **p.data}, default=str)},
        ).first()
        if opened:
            opened_types.append(p.event_type)
    return opened_types


def _evaluate(item: ReturnWithFacts, policy: LoadedPolicy, extra_seconds: float = 0.0) -> tuple[TriageResult, int]:
    started = time.perf_counter()
    result = evaluate(item.facts, policy.rules)
    elapsed = time.perf_counter() - started + extra_seconds
    return result, max(1, math.ceil(elapsed * 1000))


class EngineReading(BaseModel):
    """What the engine makes of a return now, computed on request and never written."""

    policy_version: str
    asked_version: str | None = Field(None, description="the version the return was triaged under, if any")
    fell_back: bool = Field(False, description="the asked version no longer exists: read under the active one")
    result: TriageResult


def engine_reading(uow: UnitOfWork, return_id: int, policy_version: str | None = None) -> EngineReading | None:
    """The engine's reading of one return now, under `policy_version` (or the active one if that version is gone).

    Read-only: for returns with no stored rule trace (triaged before this engine, or not yet), so the review
    panel can show every clause with its inputs. None when the business has no policy the engine can read.
    """
    business_id = uow.actor.business_id
    if business_id is None:
        raise NotAllowed("Choose a business first.")
    policy = load_policy(uow.session, business_id, policy_version) if policy_version else None
    fell_back = bool(policy_version) and policy is None
    if policy is None:
        policy = load_policy(uow.session, business_id, None)
    if policy is None:
        return None
    item = facts_for_return(uow.session, business_id, return_id)
    if item is None:
        raise NotFound("No return with that id in this business.")
    return EngineReading(policy_version=policy.version, asked_version=policy_version, fell_back=fell_back,
                         result=evaluate(item.facts, policy.rules))


def triage_return(uow: UnitOfWork, return_id: int, *, policy_version: str | None = None) -> TriageOutcome:
    """Triage one return (new, or re-triage one that needs review) and commit."""
    business_id = require_decider(uow)
    policy = _policy(uow, business_id, policy_version)
    started = time.perf_counter()
    item = facts_for_return(uow.session, business_id, return_id)
    if item is None:
        raise NotFound("No return with that id in this business.")
    if item.status not in RETRIAGE_STATUSES:
        raise NotAllowed(f"A return that is {item.status or 'without status'} is not triaged again: a decision was made.")
    # The engine reads the customer's profile: score it from their history as it is now, then read the facts.
    if refresh_customers(uow, [item.customer_email]):
        item = facts_for_return(uow.session, business_id, return_id) or item
    result, ms = _evaluate(item, policy, time.perf_counter() - started)
    outcome = _write(uow, item, result, policy, ms, note=f"{ENGINE_ID} under policy {policy.version}")
    fill_history_counters(uow, business_id, [item.customer_email])  # the history the engine read, kept beside the row
    refresh_customers(uow, [item.customer_email])  # the events this triage opened count too
    uow.commit()
    return outcome


def triage_pending(uow: UnitOfWork, *, policy_version: str | None = None, progress: Progress | None = None,
                   batch_size: int = 200, source: str = "console") -> BulkTriageSummary:
    """Triage every return of the current business waiting in ``pending_triage``.

    Facts for all of them come from one query; results are written and committed in batches of
    `batch_size` (each batch one transaction with its audit rows), and `progress(done, total)` is called
    after each batch.
    """
    business_id = require_decider(uow)
    policy = _policy(uow, business_id, policy_version)
    started = time.perf_counter()
    load_started = time.perf_counter()
    items = list(iter_facts(uow.session, business_id, statuses=[PENDING_TRIAGE]))
    per_item_load = (time.perf_counter() - load_started) / max(1, len(items))
    summary = BulkTriageSummary(business_id=business_id, policy_version=policy.version, total=len(items))
    if progress:
        progress(0, summary.total)
    note = f"{ENGINE_ID} under policy {policy.version} ({source})"
    for start in range(0, len(items), max(1, batch_size)):
        for item in items[start:start + batch_size]:
            result, ms = _evaluate(item, policy, per_item_load)
            outcome = _write(uow, item, result, policy, ms, note)
            if not outcome.written:
                summary.skipped += 1
                continue
            summary.triaged += 1
            summary.security_events_opened += len(outcome.security_events_opened)
            if outcome.status_after == APPROVED:
                summary.auto_approved += 1
            elif outcome.status_after == DENIED:
                summary.auto_denied += 1
            else:
                summary.to_review += 1
        emails = [item.customer_email for item in items[start:start + batch_size]]
        fill_history_counters(uow, business_id, emails)  # the history the engine read, kept beside the rows
        refresh_customers(uow, emails)
        uow.commit()
        if progress:
            progress(min(start + batch_size, summary.total), summary.total)
    summary.seconds = round(time.perf_counter() - started, 2)
    return summary
