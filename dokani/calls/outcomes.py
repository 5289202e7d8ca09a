"""What imported calls add to the report: the provider's evaluation, cost, escalations, links to returns.

Success rate counts only calls the provider evaluated (``metrics.call_successful``); a criterion's pass rate only
the calls that criterion was judged on. Cost is summed per unit (ElevenLabs bills credits). Escalated: the
analytics say so, or the call's conversation was escalated.
"""
from __future__ import annotations

from typing import Any

import pandas as pd
from pydantic import BaseModel
from sqlalchemy import text

from db.uow import UnitOfWork
from dokani.calls.analytics import CallFilter, _where

_LATEST = """
  LEFT JOIN LATERAL (SELECT x.metrics FROM call_analytics x WHERE x.call_session_id = c.id
                     ORDER BY x.created_at DESC LIMIT 1) a ON true
"""


class CostLine(BaseModel):
    unit: str
    total: float
    calls: int


class OutcomeSummary(BaseModel):
    calls: int
    evaluated: int
    successful: int
    total_duration_s: int
    avg_duration_s: float | None
    escalated: int
    with_resolution: int
    linked: int
    costs: list[CostLine]

    @property
    def success_rate(self) -> float | None:
        return self.successful / self.evaluated if self.evaluated else None

    @property
    def escalation_rate(self) -> float | None:
        return self.escalated / self.calls if self.calls else None

    @property
    def linked_share(self) -> float | None:
        return self.linked / self.calls if self.calls else None


def outcome_summary(uow: UnitOfWork, f: CallFilter) -> OutcomeSummary:
    where, params = _where(f)
    params["b"] = uow.actor.business_id
    r = uow.session.execute(
        text(f"""
            SELECT count(*) AS calls,
                   count(*) FILTER (WHERE a.metrics ->> 'call_successful' IN ('success', 'failure')) AS evaluated,
                   count(*) FILTER (WHERE a.metrics ->> 'call_successful' = 'success') AS successful,
                   coalesce(sum(c.duration_seconds), 0)::int AS total_duration,
                   avg(c.duration_seconds) FILTER (WHERE c.duration_seconds > 0)::float AS avg_duration,
                   count(*) FILTER (WHERE a.metrics ->> 'resolution' = 'escalated' OR EXISTS (
                       SELECT 1 FROM ai_conversation_state s WHERE s.id = c.ai_conversation_state_id
                       AND s.escalation_level > 0)) AS escalated,
                   count(*) FILTER (WHERE a.metrics ? 'resolution') AS with_resolution,
                   count(*) FILTER (WHERE EXISTS (SELECT 1 FROM call_return_links l WHERE l.call_session_id = c.id
                       AND l.business_id = :b AND l.return_request_id IS NOT NULL)) AS linked
            FROM call_sessions c {_LATEST} WHERE {where}
        """), params).one()
    costs = uow.session.execute(
        text(f"""
            SELECT coalesce(a.metrics ->> 'cost_unit', 'unknown unit') AS unit,
                   sum((a.metrics ->> 'cost')::numeric)::float AS total, count(*) AS calls
            FROM call_sessions c {_LATEST}
            WHERE {where} AND jsonb_typeof(a.metrics -> 'cost') = 'number' GROUP BY 1 ORDER BY 1
        """), params).mappings().all()
    return OutcomeSummary(calls=r.calls, evaluated=r.evaluated, successful=r.successful,
                          total_duration_s=r.total_duration, avg_duration_s=r.avg_duration, escalated=r.escalated,
                          with_resolution=r.with_resolution, linked=r.linked, costs=[CostLine(**c) for c in costs])


def criteria_pass_rates(uow: UnitOfWork, f: CallFilter) -> pd.DataFrame:
    """Per persona and evaluation criterion: calls judged, passed, pass rate."""
    where, params = _where(f)
    rows = uow.session.execute(
        text(f"""
            SELECT coalesce(p.config_name, 'no persona') AS persona, e.key AS criterion,
                   count(*) FILTER (WHERE e.value IN ('success', 'failure')) AS judged,
                   count(*) FILTER (WHERE e.value = 'success') AS passed
            FROM call_sessions c {_LATEST}
            LEFT JOIN provider_configs p ON p.id = c.persona_config_id
            CROSS JOIN LATERAL jsonb_each_text(CASE WHEN jsonb_typeof(a.metrics -> 'evaluation') = 'object'
                                               THEN a.metrics -> 'evaluation' ELSE '{{}}'::jsonb END) e
            WHERE {where} GROUP BY 1, 2 ORDER BY 1, 2
        """), params).all()
    df = pd.DataFrame(rows, columns=["persona", "criterion", "judged", "passed"])
    df["pass_rate"] = (df["passed"] / df["judged"].where(df["judged"] > 0)).astype(float)
    return df


def volume_by_outcome(uow: UnitOfWork, f: CallFilter) -> pd.DataFrame:
    where, params = _where(f)
    rows = uow.session.execute(
        text(f"""
            SELECT coalesce(a.metrics ->> 'resolution', c.status, 'unknown') AS outcome, c.provider, count(*) AS calls
            FROM call_sessions c {_LATEST} WHERE {where} GROUP BY 1, 2 ORDER BY 3 DESC
        """), params).all()
    return pd.DataFrame(rows, columns=["outcome", "provider", "calls"])


def duration_distribution(uow: UnitOfWork, f: CallFilter, bucket_s: int = 60) -> pd.DataFrame:
    where, params = _where(f)
    params["w"] = bucket_s
    rows = uow.session.execute(
        text(f"""
            SELECT (c.duration_seconds / :w) * :w AS from_s, count(*) AS calls
            FROM call_sessions c WHERE {where} AND c.duration_seconds IS NOT NULL GROUP BY 1 ORDER BY 1
        """), params).all()
    df = pd.DataFrame(rows, columns=["from_s", "calls"])
    df["minutes"] = [f"{int(s) // 60}–{int(s) // 60 + bucket_s // 60} min" for s in df["from_s"]]
    return df


class ConversationRow(BaseModel):
    id: Any
    channel: str
    customer_email: str
    status: str | None
    current_intent: str | None
    escalation_level: int | None
    updated_at: Any
    return_public_id: Any = None


def conversations(uow: UnitOfWork, limit: int = 50) -> list[ConversationRow]:
    """Every channel's conversations, escalated first, then the most recent."""
    rows = uow.session.execute(
        text("""
            SELECT cs.id, cs.channel, cs.customer_email, cs.status, cs.current_intent, cs.escalation_level,
                   cs.updated_at, r.public_id AS return_public_id
            FROM conversation_sessions cs LEFT JOIN return_requests r ON r.id = cs.return_request_id
            WHERE cs.business_id = :b
            ORDER BY coalesce(cs.escalation_level, 0) DESC, cs.updated_at DESC NULLS LAST LIMIT :n
        """), {"b": uow.actor.business_id, "n": limit}).mappings().all()
    return [ConversationRow(**r) for r in rows]


def personas(uow: UnitOfWork) -> list[tuple[Any, str]]:
    rows = uow.session.execute(
        text("SELECT id, config_name FROM provider_configs WHERE business_id = :b "
             "AND provider IN ('elevenlabs', 'tavus') ORDER BY config_name"), {"b": uow.actor.business_id}).all()
    return [(r.id, r.config_name) for r in rows]
