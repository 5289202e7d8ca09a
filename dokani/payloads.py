"""Pydantic models of the JSONB payloads the console reads: lenient on the way in (providers add keys,
older rows lack some), so a surprising row is shown as far as it can be, never a crash.
"""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="allow")


class CallMetrics(_Lenient):
    """``call_analytics.metrics`` as ElevenLabs / Tavus webhooks fill it."""

    latency_ms_p50: float | None = None
    latency_ms_p95: float | None = None
    interruptions: int | None = None
    sentiment: float | None = Field(None, ge=-1, le=1)
    resolution: Literal["resolved", "escalated", "unresolved"] | None = None
    words_per_minute: float | None = None
    turns: int | None = None

    @field_validator("sentiment", mode="before")
    @classmethod
    def _clamp(cls, v: Any) -> Any:
        return None if v is None else max(-1.0, min(1.0, float(v)))

    @field_validator("resolution", mode="before")
    @classmethod
    def _known_resolution(cls, v: Any) -> Any:
        return v if v in ("resolved", "escalated", "unresolved") else None


class CallEvent(_Lenient):
    t: float | None = None
    type: str = "event"


class CustomerFeedback(_Lenient):
    """``call_sessions.customer_feedback``: a 1–5 rating and the customer's own words (untrusted text)."""

    rating: int | None = Field(None, ge=1, le=5)
    comment: str | None = None

    @field_validator("rating", mode="before")
    @classmethod
    def _rating(cls, v: Any) -> Any:
        try:
            r = int(v)
        except (TypeError, ValueError):
            return None
        return r if 1 <= r <= 5 else None


class ConversationTurn(_Lenient):
    """One entry of ``return_requests.conversation_log``."""

    role: str = "customer"
    text: str = ""
    at: str | None = None


def parse_events(raw: Any) -> list[CallEvent]:
    if not isinstance(raw, list):
        return []
    return [CallEvent.model_validate(e) for e in raw if isinstance(e, dict)]
