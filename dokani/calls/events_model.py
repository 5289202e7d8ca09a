"""One provider event, as the importer needs it: whichever provider sent it, the same shape.

``elevenlabs.parse`` and ``tavus.parse`` turn a raw payload into an ``ImportEvent``; ``importer`` writes it.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from dokani.calls.metrics import Turn


class Criterion(BaseModel):
    criteria_id: str
    result: str  # success | failure | unknown
    rationale: str | None = None


class DataPoint(BaseModel):
    data_collection_id: str
    value: Any = None
    rationale: str | None = None


class ImportEvent(BaseModel):
    provider: Literal["elevenlabs", "tavus"]
    event_type: str
    conversation_id: str
    event_key: str  # unique per provider and business: the same event twice has the same key
    occurred_at: datetime  # naive UTC, like the schema's timestamps
    agent_id: str | None = None  # ElevenLabs agent (persona) id
    replica_id: str | None = None  # Tavus replica (persona) id
    status: str | None = None  # completed | failed | in_progress
    started_at: datetime | None = None
    ended_at: datetime | None = None
    duration_s: float | None = None
    cost: float | None = None
    cost_unit: str | None = None
    termination_reason: str | None = None
    failure_reason: str | None = None
    customer_ref: str | None = None  # provider's user id (an email when the agent was started with one)
    turns: list[Turn] | None = None
    prompt: str | None = None  # Tavus: the first system turn (instructions, not speech)
    call_successful: str | None = None
    summary: str | None = None
    evaluation: list[Criterion] = Field(default_factory=list)
    data_collection: list[DataPoint] = Field(default_factory=list)
    dynamic_variables: dict[str, Any] = Field(default_factory=dict)
    audio_base64: str | None = None
    audio_bytes: int | None = None
    recording_uri: str | None = None
    perception: str | dict | None = None
    provider_extra: dict[str, Any] = Field(default_factory=dict)  # kept in webhook_data as received

    def timeline_entry(self) -> dict[str, Any]:
        """The event as a line of ``call_analytics.events`` (seconds into the call where known)."""
        t = None
        if self.started_at is not None:
            t = max(0.0, (self.occurred_at - self.started_at).total_seconds())
        entry: dict[str, Any] = {"t": t, "type": self.event_type, "at": self.occurred_at.isoformat()}
        for key in ("termination_reason", "failure_reason"):
            if getattr(self, key):
                entry[key] = getattr(self, key)
        return entry
