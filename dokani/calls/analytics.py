"""AI voice and video calls (ElevenLabs voices, Tavus video replicas): analytics, list, one call's transcript.

A call belongs to a business through its persona (``persona_config_id``) or its chat session; row-level
security follows those links, so every query here only ever sees the current business's calls.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import pandas as pd
from pydantic import BaseModel, Field
from sqlalchemy import text

from db.uow import UnitOfWork
from dokani.analytics.kpis import Period
from dokani.errors import NotFound
from dokani.payloads import CallEvent, CallMetrics, CustomerFeedback, parse_events

# Numbers read from call_analytics.metrics; a call without a key simply does not count for that figure.
_NUM = "CASE WHEN jsonb_typeof(a.metrics -> '{key}') = 'number' THEN (a.metrics ->> '{key}')::numeric END"


class CallFilter(BaseModel):
    period: Period
    provider: str | None = None  # elevenlabs | tavus
    call_type: str | None = None  # voice | video
    status: str | None = None
    persona_id: UUID | None = None
    evaluation: str | None = None  # the provider's call_successful: success | failure | unknown


class CallSummary(BaseModel):
    calls: int
    completed: int
    total_minutes: float
    avg_duration_s: float | None
    avg_quality: float | None
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    resolution_rate: float | None  # resolved / calls with a resolution
    avg_sentiment: float | None
    with_analytics: int


class CallRow(BaseModel):
    id: UUID
    created_at: datetime
    call_type: str
    provider: str
    status: str | None
    duration_seconds: int | None
    call_quality_score: float | None
    persona: str | None
    resolution: str | None


class CallPage(BaseModel):
    rows: list[CallRow]
    next_cursor: tuple[datetime, UUID] | None = None


class TranscriptLine(BaseModel):
    speaker: str
    message: str
    at_seconds: float | None


class CallDetail(BaseModel):
    call: CallRow
    external_ids: dict[str, str]
    customer_feedback: CustomerFeedback = Field(default_factory=CustomerFeedback)
    metrics: CallMetrics | None = None
    events: list[CallEvent] = Field(default_factory=list)
    transcript: list[TranscriptLine] = Field(default_factory=list)


def _where(f: CallFilter) -> tuple[str, dict[str, Any]]:
    clauses = ["c.created_at >= :start", "c.created_at < :end"]
    params: dict[str, Any] = {"start": f.period.start, "end": f.period.end}
    for column in ("provider", "call_type", "status"):
        value = getattr(f, column)
        if value:
            clauses.append(f"c.{column} = :{column}")
            params[column] = value
    if f.persona_id:
        clauses.append("c.persona_config_id = :persona_id")
        params["persona_id"] = f.persona_id
    if f.evaluation:
        clauses.append("EXISTS (SELECT 1 FROM call_analytics x WHERE x.call_session_id = c.id "
                       "AND x.metrics ->> 'call_successful' = :evaluation)")
        params["evaluation"] = f.evaluation
    return " AND ".join(clauses), params


def call_summary(uow: UnitOfWork, f: CallFilter) -> CallSummary:
    where, params = _where(f)
    r = uow.session.execute(
        text(
            f"""
            WITH a AS (
              SELECT DISTINCT ON (call_session_id) call_session_id, metrics
              FROM call_analytics ORDER BY call_session_id, created_at DESC
            )
            SELECT count(*) AS calls,
                   count(*) FILTER (WHERE c.status = 'completed') AS completed,
                   coalesce(sum(c.duration_seconds), 0) / 60.0 AS minutes,
                   avg(c.duration_seconds) FILTER (WHERE c.duration_seconds > 0) AS avg_duration,
                   avg(c.call_quality_score) AS quality,
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY {_NUM.format(key='latency_ms_p50')}) AS p50,
                   percentile_cont(0.95) WITHIN GROUP (ORDER BY {_NUM.format(key='latency_ms_p95')}) AS p95,
                   count(*) FILTER (WHERE a.metrics ->> 'resolution' = 'resolved') AS resolved,
                   count(*) FILTER (WHERE a.metrics ? 'resolution') AS with_resolution,
                   avg({_NUM.format(key='sentiment')}) AS sentiment,
                   count(a.call_session_id) AS with_analytics
            FROM call_sessions c LEFT JOIN a ON a.call_session_id = c.id
            WHERE {where}
            """
        ),
        params,
    ).one()

    return summary_of(r)


def summary_of(r) -> CallSummary:
    """A summary row (calls, completed, minutes, averages, percentiles, resolved) as the page's figures."""
    def num(v):
        return float(v) if v is not None else None

    return CallSummary(
        calls=r.calls, completed=r.completed, total_minutes=float(r.minutes), avg_duration_s=num(r.avg_duration),
        avg_quality=num(r.quality), latency_p50_ms=num(r.p50), latency_p95_ms=num(r.p95),
        resolution_rate=(r.resolved / r.with_resolution) if r.with_resolution else None,
        avg_sentiment=num(r.sentiment), with_analytics=r.with_analytics,
    )


def calls_per_day(uow: UnitOfWork, f: CallFilter) -> pd.DataFrame:
    where, params = _where(f)
    rows = uow.session.execute(
        text(
            f"""
            SELECT date_trunc('day', c.created_at)::date AS day, c.provider, count(*) AS calls,
                   avg(c.call_quality_score)::float AS avg_quality
            FROM call_sessions c WHERE {where} GROUP BY 1, 2 ORDER BY 1, 2
            """
        ),
        params,
    ).all()
    return pd.DataFrame(rows, columns=["day", "provider", "calls", "avg_quality"])


def quality_by_persona(uow: UnitOfWork, f: CallFilter) -> pd.DataFrame:
    where, params = _where(f)
    rows = uow.session.execute(
        text(
            f"""
            SELECT coalesce(p.config_name, 'no persona') AS persona, c.provider, count(*) AS calls,
                   round(avg(c.call_quality_score), 2)::float AS avg_quality,
                   round(avg(c.duration_seconds))::int AS avg_duration_s,
                   count(*) FILTER (WHERE c.status = 'completed') AS completed
            FROM call_sessions c LEFT JOIN provider_configs p ON p.id = c.persona_config_id
            WHERE {where} GROUP BY 1, 2 ORDER BY 3 DESC
            """
        ),
        params,
    ).all()
    return pd.DataFrame(rows, columns=["persona", "provider", "calls", "avg_quality", "avg_duration_s", "completed"])


_ROW_SQL = """
SELECT c.id, c.created_at, c.call_type, c.provider, c.status, c.duration_seconds, c.call_quality_score,
       p.config_name AS persona,
       (SELECT a.metrics ->> 'resolution' FROM call_analytics a WHERE a.call_session_id = c.id
        ORDER BY a.created_at DESC LIMIT 1) AS resolution
FROM call_sessions c LEFT JOIN provider_configs p ON p.id = c.persona_config_id
"""


def list_calls(uow: UnitOfWork, f: CallFilter, after: tuple[datetime, UUID] | None = None, limit: int = 25) -> CallPage:
    """Newest first, keyset-paginated on (created_at, id)."""
    where, params = _where(f)
    if after is not None:
        where += " AND (c.created_at, c.id) < (:after_at, :after_id)"
        params.update(after_at=after[0], after_id=after[1])
    params["limit"] = limit + 1
    rows = uow.session.execute(
        text(f"{_ROW_SQL} WHERE {where} ORDER BY c.created_at DESC, c.id DESC LIMIT :limit"), params
    ).mappings().all()
    calls = [CallRow(**r) for r in rows[:limit]]
    cursor = (calls[-1].created_at, calls[-1].id) if len(rows) > limit else None
    return CallPage(rows=calls, next_cursor=cursor)


def call_detail(uow: UnitOfWork, call_id: UUID) -> CallDetail:
    row = uow.session.execute(text(f"{_ROW_SQL} WHERE c.id = :id"), {"id": call_id}).mappings().first()
    if row is None:
        raise NotFound("No such call in this business.")
    extra = uow.session.execute(
        text(
            """
            SELECT elevenlabs_agent_id, elevenlabs_conversation_id, tavus_replica_id, tavus_conversation_id,
                   external_session_id, customer_feedback
            FROM call_sessions WHERE id = :id
            """
        ),
        {"id": call_id},
    ).mappings().one()
    analytics = uow.session.execute(
        text("SELECT metrics, events FROM call_analytics WHERE call_session_id = :id ORDER BY created_at DESC LIMIT 1"),
        {"id": call_id},
    ).mappings().first()
    lines = uow.session.execute(
        text(
            """
            SELECT speaker, message, timestamp_seconds AS at_seconds FROM call_transcripts
            WHERE call_session_id = :id ORDER BY timestamp_seconds NULLS LAST, stream_sequence NULLS LAST, created_at
            """
        ),
        {"id": call_id},
    ).mappings().all()
    ids = {k: v for k, v in extra.items() if k != "customer_feedback" and v}
    return CallDetail(
        call=CallRow(**row),
        external_ids=ids,
        customer_feedback=CustomerFeedback.model_validate(extra["customer_feedback"] or {}),
        metrics=CallMetrics.model_validate(analytics["metrics"] or {}) if analytics else None,
        events=parse_events(analytics["events"]) if analytics else [],
        transcript=[TranscriptLine(speaker=l["speaker"], message=l["message"],
                                   at_seconds=float(l["at_seconds"]) if l["at_seconds"] is not None else None) for l in lines],
    )
