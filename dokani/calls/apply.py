"""The writes of one provider event (see ``importer`` for the order and the ledger around them)."""
from __future__ import annotations

import json
from datetime import timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.orm import Session

from dokani.calls import linking
from dokani.calls.events_model import ImportEvent
from dokani.calls.metrics import call_metrics
from dokani.calls.resolve import find_call, find_persona
from dokani.errors import Invalid

FINAL = ("completed", "failed")


def _j(value: Any) -> str:
    return json.dumps(value, default=str)


def _new_call(session: Session, business_id: UUID, ev: ImportEvent, persona: tuple[UUID, str] | None) -> Any:
    channel = "voice" if ev.provider == "elevenlabs" else "video"
    started = ev.started_at or ev.occurred_at
    email = linking.customer_email(ev) or "unknown"
    conversation = session.execute(
        text("""
            INSERT INTO conversation_sessions (business_id, customer_email, channel, status, participants,
              ai_agent_type, metadata, created_at, updated_at)
            VALUES (:b, :e, :ch, 'active', CAST(:parts AS jsonb), 'customer_service', CAST(:meta AS jsonb), :at, :at)
            RETURNING id
        """), {"b": business_id, "e": email, "ch": channel, "at": started,
               "parts": _j([{"role": "customer", "ref": email}, {"role": "agent", "persona": persona[1] if persona else None}]),
               "meta": _j({"provider": ev.provider, "conversation_id": ev.conversation_id})}).scalar_one()
    state = session.execute(
        text("""
            INSERT INTO ai_conversation_state (session_id, agent_type, conversation_context, created_at, updated_at,
              last_interaction)
            VALUES (:s, 'customer_service', CAST(:ctx AS jsonb), :at, :at, :at) RETURNING id
        """), {"s": conversation, "ctx": _j({"dynamic_variables": ev.dynamic_variables}), "at": started}).scalar_one()
    el = ev.provider == "elevenlabs"
    call_id = session.execute(
        text("""
            INSERT INTO call_sessions (call_type, provider, external_session_id, status, duration_seconds, created_at,
              elevenlabs_agent_id, elevenlabs_conversation_id, tavus_replica_id, tavus_conversation_id,
              persona_config_id, ai_conversation_state_id, provider_data, webhook_data, updated_at)
            VALUES (:type, :p, :conv, 'initiated', 0, :at, :agent, :elconv, :replica, :tconv, :persona, :state,
                    CAST(:pdata AS jsonb), '{}', :at)
            RETURNING id
        """), {"type": channel, "p": ev.provider, "conv": ev.conversation_id, "at": started,
               "agent": ev.agent_id if el else None, "elconv": ev.conversation_id if el else None,
               "replica": None if el else ev.replica_id, "tconv": None if el else ev.conversation_id,
               "persona": persona[0] if persona else None, "state": state,
               "pdata": _j({"persona_name": persona[1] if persona else None, "imported": True})}).scalar_one()
    return find_call(session, business_id, ev) if call_id else None


def apply_event(session: Session, business_id: UUID, ev: ImportEvent) -> UUID:
    call = find_call(session, business_id, ev)
    if call is None:
        persona = find_persona(session, business_id, ev)
        if persona is None:
            raise Invalid(f"{ev.provider} event for conversation {ev.conversation_id!r}: "
                          f"{'agent' if ev.provider == 'elevenlabs' else 'replica'} id "
                          f"{ev.agent_id or ev.replica_id!r} matches no persona of this business")
        call = _new_call(session, business_id, ev, persona)
    duration = _update_call(session, call, ev)
    if ev.turns is not None:
        _replace_transcript(session, call, ev)
    if ev.audio_base64 or ev.recording_uri:
        _store_recording(session, call, ev)
    if ev.perception is not None:
        session.execute(
            text("INSERT INTO video_analysis (session_id, analysis_data, timestamp, analysis_type) "
                 "VALUES (:c, CAST(:d AS jsonb), :at, 'content')"),
            {"c": call.id, "d": _j({"source": ev.event_type, "analysis": ev.perception}), "at": ev.occurred_at})
    if ev.provider == "tavus" and ev.event_type in ("system.replica_joined", "system.shutdown"):
        _streaming_state(session, call, ev)
    _analytics(session, call, ev, duration)
    if ev.event_type in ("post_call_transcription", "call_initiation_failure"):
        linking.link_imported_call(session, business_id, call.id, call.conversation, ev)
    return call.id


def _update_call(session: Session, call: Any, ev: ImportEvent) -> float | None:
    status = ev.status
    if status and call.status in FINAL and status not in FINAL:
        status = None  # a late "joined" never reopens a finished call
    ended = ev.ended_at
    duration = ev.duration_s
    if duration is None and ended is not None:
        duration = max(0.0, (ended - (ev.started_at or call.created_at)).total_seconds())
    patch = {k: v for k, v in {
        "event": ev.event_type, "cost": ev.cost, "cost_unit": ev.cost_unit if ev.cost is not None else None,
        "termination_reason": ev.termination_reason, "error": ev.failure_reason, "recording": ev.recording_uri,
    }.items() if v is not None}
    webhook = {ev.event_type: {k: v for k, v in {
        "received_at": ev.occurred_at.isoformat(), "call_successful": ev.call_successful,
        "transcript_summary": ev.summary,
        "evaluation_criteria_results": [c.model_dump() for c in ev.evaluation] or None,
        "data_collection_results": [d.model_dump() for d in ev.data_collection] or None,
        "dynamic_variables": ev.dynamic_variables or None, **ev.provider_extra,
    }.items() if v is not None}}
    session.execute(
        text("""
            UPDATE call_sessions SET
              status = coalesce(:status, status),
              created_at = coalesce(:started, created_at),
              ended_at = coalesce(:ended, ended_at),
              duration_seconds = coalesce(CAST(round(CAST(:duration AS numeric)) AS integer), duration_seconds),
              is_active = CASE WHEN :status IN ('completed', 'failed') THEN false
                               WHEN :status = 'in_progress' THEN true ELSE is_active END,
              tavus_replica_id = coalesce(tavus_replica_id, :replica),
              provider_data = coalesce(provider_data, '{}') || CAST(:pdata AS jsonb),
              webhook_data = coalesce(webhook_data, '{}') || CAST(:wdata AS jsonb),
              updated_at = now() AT TIME ZONE 'utc'
            WHERE id = :id
        """), {"status": status, "started": ev.started_at, "ended": ended,
               "duration": duration if ev.event_type != "application.recording_ready" else None,
               "replica": ev.replica_id if ev.provider == "tavus" else None,
               "pdata": _j(patch), "wdata": _j(webhook), "id": call.id})
    if status in FINAL or ev.turns is not None:
        intent = next((str(d.value) for d in ev.data_collection if d.data_collection_id in ("intent", "customer_intent")
                       and d.value not in (None, "")), None)
        escalated = any(d.data_collection_id in ("escalated", "escalation", "wants_human") and d.value in (True, "true", "yes")
                        for d in ev.data_collection)
        session.execute(
            text("""
                UPDATE ai_conversation_state SET
                  current_intent = coalesce(:intent, current_intent),
                  escalation_level = CASE WHEN :esc THEN greatest(escalation_level, 1) ELSE escalation_level END,
                  ai_memory = coalesce(ai_memory, '{}') || CAST(:memory AS jsonb),
                  conversation_context = coalesce(conversation_context, '{}') || CAST(:ctx AS jsonb),
                  is_active = CASE WHEN :final THEN false ELSE is_active END,
                  last_interaction = :at, updated_at = now() AT TIME ZONE 'utc'
                WHERE id = :state
            """), {"intent": intent, "esc": escalated, "final": status in FINAL, "at": ev.occurred_at,
                   "state": call.ai_conversation_state_id,
                   "memory": _j({d.data_collection_id: d.value for d in ev.data_collection}),
                   "ctx": _j({k: v for k, v in {"prompt": ev.prompt, "summary": ev.summary,
                                                "dynamic_variables": ev.dynamic_variables or None}.items() if v})})
        session.execute(
            text("""
                UPDATE conversation_sessions cs SET
                  current_intent = coalesce(s.current_intent, cs.current_intent),
                  escalation_level = greatest(cs.escalation_level, s.escalation_level),
                  status = CASE WHEN :final THEN 'closed' ELSE cs.status END,
                  duration = coalesce(CAST(round(CAST(:duration AS numeric)) AS integer), cs.duration),
                  customer_email = CASE WHEN cs.customer_email = 'unknown' THEN :email ELSE cs.customer_email END,
                  updated_at = now() AT TIME ZONE 'utc'
                FROM ai_conversation_state s WHERE s.id = :state AND cs.id = s.session_id
            """), {"final": status in FINAL, "duration": duration, "state": call.ai_conversation_state_id,
                   "email": linking.customer_email(ev) or "unknown"})
    return duration


def _replace_transcript(session: Session, call: Any, ev: ImportEvent) -> None:
    """A newer transcript of the same call replaces the older one (never duplicated lines)."""
    session.execute(text("DELETE FROM call_transcripts WHERE call_session_id = :c"), {"c": call.id})
    started = ev.started_at or call.created_at
    for seq, turn in enumerate(ev.turns or []):
        session.execute(
            text("""
                INSERT INTO call_transcripts (call_session_id, speaker, message, timestamp_seconds, created_at,
                  processing_status, ai_processed, stream_sequence, metadata)
                VALUES (:c, :sp, :m, :t, :at, 'completed', true, :seq, CAST(:meta AS jsonb))
            """), {"c": call.id, "sp": turn.speaker, "m": turn.message, "t": turn.at_seconds, "seq": seq,
                   "at": started, "meta": _j({"source": ev.event_type, **turn.metadata})})
    if call.conversation:
        session.execute(text("DELETE FROM conversation_messages WHERE session_id = :s"), {"s": call.conversation})
        for seq, turn in enumerate(ev.turns or []):
            session.execute(
                text("INSERT INTO conversation_messages (session_id, content, message_type, metadata, timestamp) "
                     "VALUES (:s, :m, :type, CAST(:meta AS jsonb), :at)"),
                {"s": call.conversation, "m": turn.message, "type": f"{turn.speaker}_speech",
                 "meta": _j({"speaker": turn.speaker, "seq": seq, "call_id": str(call.id)}),
                 "at": started + timedelta(seconds=turn.at_seconds or 0)})


def _store_recording(session: Session, call: Any, ev: ImportEvent) -> None:
    audio = ev.audio_base64 or ev.recording_uri
    meta = _j({"source": ev.event_type, "bytes": ev.audio_bytes,
               "storage": "inline_base64" if ev.audio_base64 else "provider_url"})
    fmt = "mp3" if ev.audio_base64 else "mp4"
    duration_ms = int(ev.duration_s * 1000) if ev.duration_s is not None else None
    updated = session.execute(
        text("UPDATE audio_chunks SET audio_data = :a, metadata = CAST(:meta AS jsonb), format = :f, "
             "duration_ms = coalesce(:d, duration_ms), timestamp = :at "
             "WHERE session_id = :c AND metadata ->> 'source' = :src RETURNING id"),
        {"a": audio, "meta": meta, "f": fmt, "d": duration_ms, "at": ev.occurred_at, "c": call.id,
         "src": ev.event_type}).first()
    if updated is None:
        session.execute(
            text("INSERT INTO audio_chunks (audio_data, session_id, sequence, timestamp, is_final, duration_ms, "
                 "format, metadata, created_at) VALUES (:a, :c, 0, :at, true, :d, :f, CAST(:meta AS jsonb), :at)"),
            {"a": audio, "c": call.id, "at": ev.occurred_at, "d": duration_ms, "f": fmt, "meta": meta})


def _streaming_state(session: Session, call: Any, ev: ImportEvent) -> None:
    existing = session.execute(text("SELECT id FROM streaming_sessions WHERE call_session_id = :c LIMIT 1"),
                               {"c": call.id}).scalar()
    event = _j([{"type": ev.event_type, "at": ev.occurred_at.isoformat(), "reason": ev.termination_reason}])
    if existing is None:
        session.execute(
            text("INSERT INTO streaming_sessions (call_session_id, session_type, status, participant_count, "
                 "real_time_events, created_at, updated_at, ended_at) "
                 "VALUES (:c, 'video', :st, :n, CAST(:ev AS jsonb), :at, :at, :end)"),
            {"c": call.id, "st": "ended" if ev.event_type == "system.shutdown" else "active",
             "n": 0 if ev.event_type == "system.shutdown" else 2, "ev": event, "at": ev.occurred_at,
             "end": ev.ended_at})
    else:
        session.execute(
            text("UPDATE streaming_sessions SET status = CASE WHEN :shut THEN 'ended' ELSE status END, "
                 "participant_count = CASE WHEN :shut THEN 0 ELSE participant_count END, "
                 "ended_at = coalesce(:end, ended_at), real_time_events = real_time_events || CAST(:ev AS jsonb), "
                 "updated_at = now() AT TIME ZONE 'utc' WHERE id = :id"),
            {"shut": ev.event_type == "system.shutdown", "end": ev.ended_at, "ev": event, "id": existing})


def _analytics(session: Session, call: Any, ev: ImportEvent, duration: float | None) -> None:
    """One call_analytics row per imported call: metrics merged per event, the event added to the timeline."""
    metrics: dict[str, Any] = {}
    if ev.turns is not None:
        metrics = call_metrics(ev.turns, ev.duration_s, ev.cost, ev.cost_unit)
        resolution = {"success": "resolved", "failure": "unresolved"}.get(ev.call_successful or "")
        if any(d.data_collection_id in ("escalated", "escalation", "wants_human") and d.value in (True, "true", "yes")
               for d in ev.data_collection):
            resolution = "escalated"
        if resolution:
            metrics["resolution"] = resolution
        if ev.call_successful:
            metrics["call_successful"] = ev.call_successful
        if ev.evaluation:
            metrics["evaluation"] = {c.criteria_id: c.result for c in ev.evaluation}
    elif ev.duration_s is not None and ev.event_type != "application.recording_ready":
        metrics = {"duration_s": ev.duration_s}
    elif ev.event_type == "system.shutdown" and duration is not None:
        metrics = {"duration_s": duration}
    metrics = {k: v for k, v in metrics.items() if v is not None}  # unknown stays absent, never overwrites
    entry = _j([ev.timeline_entry()])
    existing = session.execute(text("SELECT id FROM call_analytics WHERE call_session_id = :c "
                                    "ORDER BY created_at DESC LIMIT 1"), {"c": call.id}).scalar()
    if existing is None:
        session.execute(
            text("INSERT INTO call_analytics (call_session_id, provider, metrics, events, created_at) "
                 "VALUES (:c, :p, CAST(:m AS jsonb), CAST(:e AS jsonb), now() AT TIME ZONE 'utc')"),
            {"c": call.id, "p": ev.provider, "m": _j(metrics), "e": entry})
    else:
        session.execute(
            text("UPDATE call_analytics SET metrics = coalesce(metrics, '{}') || CAST(:m AS jsonb), "
                 "events = coalesce(events, '[]') || CAST(:e AS jsonb) WHERE id = :id"),
            {"m": _j(metrics), "e": entry, "id": existing})
