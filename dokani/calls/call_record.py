"""What a call detail adds for imported calls: evaluation with rationale, data collected, recording, linked return."""
from __future__ import annotations

import base64
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field
from sqlalchemy import text

from db.uow import UnitOfWork
from dokani.calls.linking import CallLink, call_link


class Judgement(BaseModel):
    criteria_id: str = ""
    result: str | None = None
    rationale: str | None = None


class Collected(BaseModel):
    data_collection_id: str = ""
    value: Any = None
    rationale: str | None = None


class Recording(BaseModel):
    format: str | None
    audio: bytes | None = None  # inline (ElevenLabs post_call_audio)
    location: str | None = None  # held by the provider (Tavus recording_ready)


class CallRecord(BaseModel):
    call_successful: str | None = None
    summary: str | None = None
    evaluation: list[Judgement] = Field(default_factory=list)
    data_collected: list[Collected] = Field(default_factory=list)
    cost: float | None = None
    cost_unit: str | None = None
    termination_reason: str | None = None
    error: str | None = None
    extra_metrics: dict[str, Any] = Field(default_factory=dict)
    recordings: list[Recording] = Field(default_factory=list)
    link: CallLink | None = None
    persona: str | None = None


def _list(model, raw: Any) -> list:
    return [model.model_validate(x) for x in raw if isinstance(x, dict)] if isinstance(raw, list) else []


def call_record(uow: UnitOfWork, call_id: UUID) -> CallRecord:
    row = uow.session.execute(
        text("SELECT c.webhook_data, c.provider_data, p.config_name FROM call_sessions c "
             "LEFT JOIN provider_configs p ON p.id = c.persona_config_id WHERE c.id = :c"), {"c": call_id}).first()
    if row is None:
        return CallRecord()
    webhook = row.webhook_data if isinstance(row.webhook_data, dict) else {}
    analysis = webhook.get("post_call_transcription") or {}
    pdata = row.provider_data if isinstance(row.provider_data, dict) else {}
    metrics = uow.session.execute(
        text("SELECT metrics FROM call_analytics WHERE call_session_id = :c ORDER BY created_at DESC LIMIT 1"),
        {"c": call_id}).scalar() or {}
    keys = ("turns", "talk_time_s", "agent_response_gap_s_p50", "agent_response_gap_s_p95", "longest_silence_s",
            "duration_s")
    chunks = uow.session.execute(
        text("SELECT audio_data, format, metadata FROM audio_chunks WHERE session_id = :c ORDER BY sequence, timestamp"),
        {"c": call_id}).all()
    recordings = []
    for data, fmt, meta in chunks:
        inline = isinstance(meta, dict) and meta.get("storage") == "inline_base64"
        try:
            audio = base64.b64decode(data) if inline else None
        except ValueError:
            audio = None
        recordings.append(Recording(format=fmt, audio=audio, location=None if inline else data))
    return CallRecord(
        call_successful=analysis.get("call_successful"), summary=analysis.get("transcript_summary"),
        evaluation=_list(Judgement, analysis.get("evaluation_criteria_results")),
        data_collected=_list(Collected, analysis.get("data_collection_results")),
        cost=pdata.get("cost") if isinstance(pdata.get("cost"), (int, float)) else None, cost_unit=pdata.get("cost_unit"),
        termination_reason=pdata.get("termination_reason"), error=pdata.get("error"),
        extra_metrics={k: metrics[k] for k in keys if isinstance(metrics, dict) and k in metrics},
        recordings=recordings, link=call_link(uow, call_id), persona=row.config_name,
    )
