"""Call metrics computed from a transcript on import: what ``call_analytics.metrics`` holds for imported calls.

Providers give each turn's start (ElevenLabs ``time_in_call_secs``) but not its end, so how long someone spoke is
estimated from their words at a typical speaking rate, never longer than the time until the next turn. A gap is
the time from the end of one turn (so estimated) to the start of the next: the agent's response gap when the next
speaker is the agent, a silence whoever speaks next. Without turn times (Tavus transcripts) gaps stay unknown.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel

WORDS_PER_SECOND = 2.5  # 150 words a minute


class Turn(BaseModel):
    speaker: str  # agent | customer
    message: str
    at_seconds: float | None = None
    metadata: dict[str, Any] = {}


def _spoken_seconds(message: str) -> float:
    return len(message.split()) / WORDS_PER_SECOND


def percentile(values: list[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (as Postgres' percentile_cont)."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def call_metrics(turns: list[Turn], duration_s: float | None, cost: float | Decimal | None = None,
                 cost_unit: str | None = None) -> dict[str, Any]:
    """turns, talk time per speaker, agent response gaps (p50/p95), longest silence, duration, cost."""
    talk: dict[str, float] = {}
    gaps: list[float] = []
    silences: list[float] = []
    timed = all(t.at_seconds is not None for t in turns) and bool(turns)
    for i, turn in enumerate(turns):
        spoken = _spoken_seconds(turn.message)
        if timed:
            nxt = turns[i + 1].at_seconds if i + 1 < len(turns) else duration_s
            if nxt is not None:
                spoken = max(0.0, min(spoken, nxt - turn.at_seconds))
                if i + 1 < len(turns):
                    gap = max(0.0, nxt - turn.at_seconds - spoken)
                    silences.append(gap)
                    if turns[i + 1].speaker == "agent" and turn.speaker != "agent":
                        gaps.append(gap)
        talk[turn.speaker] = talk.get(turn.speaker, 0.0) + spoken
    p50, p95 = percentile(gaps, 0.5), percentile(gaps, 0.95)
    metrics: dict[str, Any] = {
        "turns": len(turns),
        "talk_time_s": {k: round(v, 1) for k, v in sorted(talk.items())},
        "agent_response_gap_s_p50": round(p50, 2) if p50 is not None else None,
        "agent_response_gap_s_p95": round(p95, 2) if p95 is not None else None,
        "longest_silence_s": round(max(silences), 1) if silences else None,
        "duration_s": duration_s,
        "cost": float(cost) if cost is not None else None,
        "cost_unit": cost_unit if cost is not None else None,
        "metrics_source": "import",
    }
    # The console's latency KPIs read latency_ms_*: the agent's response gap is that latency for imported calls.
    if p50 is not None:
        metrics["latency_ms_p50"] = round(p50 * 1000)
        metrics["latency_ms_p95"] = round(p95 * 1000)
    return metrics
