"""Tavus conversation callbacks: ``{conversation_id, event_type, message_type, timestamp, properties}``.

Handled: ``system.replica_joined``, ``application.transcription_ready`` (the first system turn is the prompt,
not speech), ``application.recording_ready``, ``application.perception_analysis``, ``system.shutdown``.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dokani.calls.events_model import ImportEvent
from dokani.calls.metrics import Turn
from dokani.errors import Invalid, field_problems

EVENT_TYPES = ("system.replica_joined", "application.transcription_ready", "application.recording_ready",
               "application.perception_analysis", "system.shutdown")
_ROLE = {"assistant": "agent", "user": "customer", "replica": "agent"}
# Shutdown reasons that mean the call did not happen as it should.
_FAILED = ("error", "failed", "exception")


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class Envelope(_Open):
    conversation_id: str = Field(min_length=1)
    event_type: Literal["system.replica_joined", "application.transcription_ready", "application.recording_ready",
                        "application.perception_analysis", "system.shutdown"]
    message_type: str
    timestamp: datetime
    properties: dict[str, Any] = Field(default_factory=dict)


class Line(_Open):
    role: str
    content: str


class TranscriptProps(_Open):
    transcript: list[Line]


class RecordingProps(_Open):
    bucket_name: str | None = None
    s3_key: str = Field(min_length=1)
    duration: float | None = None


class ShutdownProps(_Open):
    shutdown_reason: str


class PerceptionProps(_Open):
    analysis: str | dict


def parse(raw: dict[str, Any]) -> ImportEvent:
    try:
        env = Envelope.model_validate(raw)
        props = env.properties
        typed = {"application.transcription_ready": TranscriptProps, "application.recording_ready": RecordingProps,
                 "system.shutdown": ShutdownProps, "application.perception_analysis": PerceptionProps}.get(env.event_type)
        detail = typed.model_validate(props) if typed else None
    except ValidationError as err:
        problems = field_problems(err, "payload")
        first = next(iter(problems.items()))
        raise Invalid(f"not a valid Tavus event: {first[0]}: {first[1]}", problems) from None
    at = env.timestamp.astimezone(timezone.utc).replace(tzinfo=None) if env.timestamp.tzinfo else env.timestamp
    replica = props.get("replica_id") if isinstance(props.get("replica_id"), str) else None
    ev = ImportEvent(provider="tavus", event_type=env.event_type, conversation_id=env.conversation_id,
                     event_key=f"{env.event_type}:{env.conversation_id}:{at.isoformat()}", occurred_at=at,
                     replica_id=replica)
    if isinstance(detail, TranscriptProps):
        lines = list(detail.transcript)
        if lines and lines[0].role == "system":
            ev.prompt = lines.pop(0).content
        ev.turns = [Turn(speaker=_ROLE.get(l.role, l.role), message=l.content) for l in lines if l.role != "system"]
    elif isinstance(detail, RecordingProps):
        ev.recording_uri = f"s3://{detail.bucket_name}/{detail.s3_key}" if detail.bucket_name else detail.s3_key
        ev.duration_s = detail.duration
    elif isinstance(detail, ShutdownProps):
        ev.termination_reason = detail.shutdown_reason
        ev.status = "failed" if any(w in detail.shutdown_reason.lower() for w in _FAILED) else "completed"
        ev.ended_at = at
    elif isinstance(detail, PerceptionProps):
        ev.perception = detail.analysis
    else:  # replica joined: the call starts
        ev.status = "in_progress"
        ev.started_at = at
    return ev
