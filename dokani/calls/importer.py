"""Import ElevenLabs / Tavus events into the seed's call tables: idempotent, all-or-nothing.

- ``read_events(files)``: every file parsed and checked before anything is written (``Invalid`` names the file).
- ``import_events(session, business_id, events, source)``: one transaction's worth of writes. Each event is first
  put in the ``call_events`` ledger; one already processed there changes nothing (the same event twice).
- ``apply.apply_event``: the writes of one event: ``conversation_sessions`` + ``ai_conversation_state`` (made with the
  call), ``call_sessions``, ``call_transcripts`` and ``conversation_messages``, ``call_analytics`` (metrics computed
  here, the event in its timeline), ``audio_chunks`` (recordings), ``video_analysis`` (perception),
  ``streaming_sessions`` (Tavus call state), ``call_return_links``.

The functions take a SQLAlchemy session whose role decides what may be written (``authenticated`` as an owner /
admin for files and uploads, ``dokani_webhook`` for the webhook receiver); every query names the business too.
"""
from __future__ import annotations

import json
from typing import Any, Callable, Iterable
from uuid import UUID

from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.orm import Session

from dokani.calls import elevenlabs, tavus
from dokani.calls.apply import apply_event
from dokani.calls.events_model import ImportEvent
from dokani.calls.resolve import find_call, find_persona
from dokani.errors import Invalid

MAX_FILE_BYTES = 25 * 1024 * 1024


class SourcedEvent(BaseModel):
    name: str  # the file (and entry) it came from, for messages
    raw: dict[str, Any]
    event: ImportEvent


class ImportSummary(BaseModel):
    imported: int = 0
    duplicates: int = 0
    calls: list[UUID] = []

    def describe(self) -> str:
        return (f"{self.imported} event(s) imported, {self.duplicates} already imported (unchanged), "
                f"{len(set(self.calls))} call(s)")


def parse_event(raw: Any) -> ImportEvent:
    """Which provider by the envelope; ``Invalid`` with the reason when it is neither."""
    if not isinstance(raw, dict):
        raise Invalid("an event must be a JSON object")
    if "type" in raw and "data" in raw:
        return elevenlabs.parse(raw)
    if "event_type" in raw and "conversation_id" in raw:
        return tavus.parse(raw)
    raise Invalid("neither an ElevenLabs webhook ({type, event_timestamp, data}) nor a Tavus callback "
                  "({conversation_id, event_type, ...})")


def read_events(files: Iterable[tuple[str, bytes]]) -> list[SourcedEvent]:
    """A file holds one event (JSON object) or several (a JSON array). All files or none."""
    out: list[SourcedEvent] = []
    problems: dict[str, str] = {}
    for name, data in files:
        if len(data) > MAX_FILE_BYTES:
            problems[name] = f"larger than {MAX_FILE_BYTES // (1024 * 1024)} MB"
            continue
        try:
            doc = json.loads(data.decode("utf-8"))
        except UnicodeDecodeError:
            problems[name] = "not UTF-8 text"
            continue
        except json.JSONDecodeError as err:
            problems[name] = f"not JSON (line {err.lineno}, column {err.colno}: {err.msg})"
            continue
        entries = doc if isinstance(doc, list) else [doc]
        if not entries:
            problems[name] = "no events in the file"
        for i, raw in enumerate(entries):
            label = name if len(entries) == 1 else f"{name} [{i}]"
            try:
                out.append(SourcedEvent(name=label, raw=raw, event=parse_event(raw)))
            except Invalid as err:
                problems[label] = str(err)
    if problems:
        first = next(iter(problems.items()))
        raise Invalid(f"{first[0]}: {first[1]} (nothing was imported)", problems)
    out.sort(key=lambda s: s.event.occurred_at)
    return out


# --- which persona, which call (resolve.py) ---------------------------------------------------------------

__all__ = ["apply_event", "find_call", "find_persona"]


def check_resolvable(session: Session, business_id: UUID, events: list[SourcedEvent]) -> None:
    """Every event names a persona of this business, or a call already known (here or earlier in the batch)."""
    known: set[tuple[str, str]] = set()
    problems: dict[str, str] = {}
    for s in events:
        ev = s.event
        key = (ev.provider, ev.conversation_id)
        if find_persona(session, business_id, ev) or key in known or find_call(session, business_id, ev):
            known.add(key)
            continue
        if ev.provider == "elevenlabs":
            problems[s.name] = f"agent id {ev.agent_id!r} matches no ElevenLabs persona of this business"
        elif ev.replica_id:
            problems[s.name] = f"replica id {ev.replica_id!r} matches no Tavus persona of this business"
        else:
            problems[s.name] = (f"Tavus conversation {ev.conversation_id!r} names no replica and no earlier event "
                                f"of it was imported")
    if problems:
        first = next(iter(problems.items()))
        raise Invalid(f"{first[0]}: {first[1]} (nothing was imported)", problems)


# --- the ledger ------------------------------------------------------------------------------------------------

def record_event(session: Session, business_id: UUID, ev: ImportEvent, raw: dict, source: str,
                 file_name: str | None = None) -> tuple[int, str]:
    """(ledger id, status); an event seen before keeps its row and status."""
    row = session.execute(
        text("""
            INSERT INTO call_events (business_id, provider, event_type, conversation_id, event_key, source, file_name,
                                     payload)
            VALUES (:b, :p, :t, :c, :k, :s, :f, CAST(:payload AS jsonb))
            ON CONFLICT (business_id, provider, event_key) DO NOTHING RETURNING id, status
        """), {"b": business_id, "p": ev.provider, "t": ev.event_type, "c": ev.conversation_id, "k": ev.event_key,
               "s": source, "f": file_name, "payload": json.dumps(raw)}).first()
    if row is None:
        row = session.execute(
            text("SELECT id, status FROM call_events WHERE business_id = :b AND provider = :p AND event_key = :k"),
            {"b": business_id, "p": ev.provider, "k": ev.event_key}).one()
    return row.id, row.status


def mark_processed(session: Session, business_id: UUID, event_id: int, call_id: UUID) -> None:
    # A processed audio event's MP3 lives in audio_chunks: the ledger keeps the envelope, not a second copy.
    session.execute(
        text("""
            UPDATE call_events SET status = 'processed', error = NULL, attempts = attempts + 1, call_session_id = :c,
              processed_at = now() AT TIME ZONE 'utc',
              payload = CASE WHEN event_type = 'post_call_audio' AND payload #> '{data,full_audio}' IS NOT NULL
                             THEN jsonb_set(payload, '{data,full_audio}', '"(stored in audio_chunks)"')
                             ELSE payload END
            WHERE id = :id AND business_id = :b
        """), {"c": call_id, "id": event_id, "b": business_id})


def import_events(session: Session, business_id: UUID, events: list[SourcedEvent], source: str,
                  progress: Callable[[int, int], None] | None = None) -> ImportSummary:
    check_resolvable(session, business_id, events)
    summary = ImportSummary()
    for done, s in enumerate(events, 1):
        if progress:
            progress(done, len(events))
        event_id, status = record_event(session, business_id, s.event, s.raw, source, s.name)
        if status == "processed":
            summary.duplicates += 1
            continue
        call_id = apply_event(session, business_id, s.event)
        mark_processed(session, business_id, event_id, call_id)
        summary.imported += 1
        summary.calls.append(call_id)
    return summary
