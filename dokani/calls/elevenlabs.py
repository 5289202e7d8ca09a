"""ElevenLabs post-call webhooks: ``post_call_transcription``, ``post_call_audio``, ``call_initiation_failure``.

Envelope ``{type, event_timestamp, data}``. Extra fields are tolerated (ElevenLabs adds them); a missing required
one refuses the payload with a message naming the field.
"""
from __future__ import annotations

import base64
import binascii
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from dokani.calls.events_model import Criterion, DataPoint, ImportEvent
from dokani.calls.metrics import Turn
from dokani.errors import Invalid, field_problems

EVENT_TYPES = ("post_call_transcription", "post_call_audio", "call_initiation_failure")
_ROLE = {"agent": "agent", "user": "customer"}


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class TranscriptTurn(_Open):
    role: Literal["agent", "user"]
    message: str | None = None  # tool-only turns carry no words
    time_in_call_secs: float | None = None
    tool_calls: list[Any] | None = None
    tool_results: list[Any] | None = None
    feedback: Any = None


class Metadata(_Open):
    start_time_unix_secs: int
    call_duration_secs: float
    cost: float | None = None
    termination_reason: str | None = None


def _entries(v: Any, key: str) -> Any:
    """ElevenLabs sends a map keyed by id; the docs show a list. Accept both, as a list."""
    if isinstance(v, dict):
        return [({key: k} | item) if isinstance(item, dict) else item for k, item in v.items()]
    return v or []


class Analysis(_Open):
    call_successful: str | None = None
    transcript_summary: str | None = None
    evaluation_criteria_results: list[Criterion] = Field(default_factory=list)
    data_collection_results: list[DataPoint] = Field(default_factory=list)

    @field_validator("evaluation_criteria_results", mode="before")
    @classmethod
    def _criteria(cls, v: Any) -> Any:
        return _entries(v, "criteria_id")

    @field_validator("data_collection_results", mode="before")
    @classmethod
    def _data(cls, v: Any) -> Any:
        return _entries(v, "data_collection_id")


class InitiationData(_Open):
    dynamic_variables: dict[str, Any] = Field(default_factory=dict)


class TranscriptionData(_Open):
    agent_id: str = Field(min_length=1)
    conversation_id: str = Field(min_length=1)
    status: str
    user_id: str | None = None
    transcript: list[TranscriptTurn]
    metadata: Metadata
    analysis: Analysis | None = None
    conversation_initiation_client_data: InitiationData | None = None


class AudioData(_Open):
    agent_id: str = Field(min_length=1)
    conversation_id: str = Field(min_length=1)
    full_audio: str = Field(min_length=1)


class FailureData(_Open):
    agent_id: str = Field(min_length=1)
    conversation_id: str = Field(min_length=1)
    failure_reason: str | None = None
    metadata: dict[str, Any] | None = None


class Envelope(_Open):
    type: Literal["post_call_transcription", "post_call_audio", "call_initiation_failure"]
    event_timestamp: int
    data: dict[str, Any]


def _utc(unix: float) -> datetime:
    return datetime.fromtimestamp(unix, tz=timezone.utc).replace(tzinfo=None)


def parse(raw: dict[str, Any]) -> ImportEvent:
    try:
        env = Envelope.model_validate(raw)
        model = {"post_call_transcription": TranscriptionData, "post_call_audio": AudioData,
                 "call_initiation_failure": FailureData}[env.type]
        data = model.model_validate(env.data)
    except ValidationError as err:
        problems = field_problems(err, "payload")
        first = next(iter(problems.items()))
        raise Invalid(f"not a valid ElevenLabs event: {first[0]}: {first[1]}", problems) from None
    at = _utc(env.event_timestamp)
    base = dict(provider="elevenlabs", event_type=env.type, conversation_id=data.conversation_id,
                event_key=f"{env.type}:{data.conversation_id}:{env.event_timestamp}", occurred_at=at,
                agent_id=data.agent_id)
    if isinstance(data, AudioData):
        try:
            audio = base64.b64decode(data.full_audio, validate=True)
        except (binascii.Error, ValueError):
            raise Invalid("not a valid ElevenLabs event: data.full_audio is not base64") from None
        return ImportEvent(**base, audio_base64=data.full_audio, audio_bytes=len(audio))
    if isinstance(data, FailureData):
        return ImportEvent(**base, status="failed", failure_reason=data.failure_reason or "unknown",
                           started_at=at, ended_at=at, duration_s=0,
                           provider_extra={"failure_metadata": data.metadata or {}})
    meta = data.metadata
    started = _utc(meta.start_time_unix_secs)
    turns = [
        Turn(speaker=_ROLE[t.role], message=t.message or "", at_seconds=t.time_in_call_secs,
             metadata={k: v for k, v in (("tool_calls", t.tool_calls), ("tool_results", t.tool_results),
                                         ("feedback", t.feedback)) if v})
        for t in data.transcript if (t.message or "").strip() or t.tool_calls or t.tool_results
    ]
    analysis = data.analysis or Analysis()
    dyn = data.conversation_initiation_client_data.dynamic_variables if data.conversation_initiation_client_data else {}
    return ImportEvent(
        **base, status="completed" if data.status == "done" else ("failed" if data.status == "failed" else data.status),
        started_at=started, ended_at=started + timedelta(seconds=meta.call_duration_secs),
        duration_s=meta.call_duration_secs, cost=meta.cost, cost_unit="credits",
        termination_reason=meta.termination_reason or None, customer_ref=data.user_id, turns=turns,
        call_successful=analysis.call_successful, summary=analysis.transcript_summary,
        evaluation=analysis.evaluation_criteria_results, data_collection=analysis.data_collection_results,
        dynamic_variables=dyn,
    )
