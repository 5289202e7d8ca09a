"""Which persona an event names, and which call it belongs to, within one business."""
from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.orm import Session

from dokani.calls.events_model import ImportEvent


def find_persona(session: Session, business_id: UUID, ev: ImportEvent) -> tuple[UUID, str] | None:
    key, value = ("agent_id", ev.agent_id) if ev.provider == "elevenlabs" else ("replica_id", ev.replica_id)
    if not value:
        return None
    row = session.execute(
        text("SELECT id, config_name FROM provider_configs WHERE business_id = :b AND provider = :p "
             "AND config_data ->> :k = :v ORDER BY is_active DESC NULLS LAST, created_at LIMIT 1"),
        {"b": business_id, "p": ev.provider, "k": key, "v": value}).first()
    return (row.id, row.config_name) if row else None


_CALL_OF_BUSINESS = """
  (c.persona_config_id IN (SELECT id FROM provider_configs WHERE business_id = :b)
   OR c.ai_conversation_state_id IN (SELECT s.id FROM ai_conversation_state s
                                    JOIN conversation_sessions cs ON cs.id = s.session_id WHERE cs.business_id = :b))
"""


def find_call(session: Session, business_id: UUID, ev: ImportEvent) -> Any:
    column = "elevenlabs_conversation_id" if ev.provider == "elevenlabs" else "tavus_conversation_id"
    return session.execute(
        text(f"SELECT c.id, c.status, c.created_at, c.ai_conversation_state_id, c.persona_config_id, "
             f"(SELECT s.session_id FROM ai_conversation_state s WHERE s.id = c.ai_conversation_state_id) AS conversation "
             f"FROM call_sessions c WHERE c.provider = :p AND c.{column} = :conv AND {_CALL_OF_BUSINESS} "
             f"ORDER BY c.created_at LIMIT 1"),
        {"p": ev.provider, "conv": ev.conversation_id, "b": business_id}).first()
