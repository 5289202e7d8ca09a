"""The conversation of a chat test session: its messages, one customer turn and the agent's reply, exports.

Every turn is a ``chat_messages`` row; agent turns carry intent, confidence, order, triage and latency in
``metadata``. ``send_message`` stores the customer's message, the agent's reply and any test return it opens
in one transaction, one turn at a time per session.
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

import pandas as pd
from pydantic import BaseModel, Field
from sqlalchemy import func, select, text

from db.uow import UnitOfWork
from dokani import audit, limits
from dokani.lab import personas
from dokani.lab.agent import AgentContext, AgentReply, AgentState, respond
from dokani.lab.orders import SimulatedOrder
from dokani.lab.replies import opening_line
from dokani.lab.sessions import LAB_ROLES, get_session, load_row, persona_row
from dokani.errors import Conflict, Invalid
from dokani.models import ChatMessage, ChatSession, Profile

AGENT_SENDERS = ("agent", "assistant", "ai", "bot", "system")


class ChatTurn(BaseModel):
    id: UUID
    sender: str
    message: str
    created_at: datetime | None
    metadata: dict[str, Any] = Field(default_factory=dict)

    @property
    def is_agent(self) -> bool:
        return self.sender.lower() in AGENT_SENDERS


def messages(uow: UnitOfWork, session_id: UUID) -> list[ChatTurn]:
    load_row(uow, session_id)
    rows = uow.session.scalars(
        select(ChatMessage).where(ChatMessage.session_id == session_id)
        .order_by(ChatMessage.created_at, text("(metadata->>'seq')::int NULLS LAST"), ChatMessage.id)
    )
    return [ChatTurn(id=r.id, sender=r.sender, message=r.message, created_at=r.created_at,
                     metadata=dict(r.metadata_ or {})) for r in rows]


def _shop_name(uow: UnitOfWork) -> str | None:
    return uow.session.scalar(select(Profile.business_name).where(Profile.business_id == uow.actor.business_id).limit(1))


def _context(row: ChatSession, shop: str | None = None) -> AgentContext:
    meta = dict(row.metadata_ or {})
    return AgentContext(
        shop_name=shop,
        business_id=row.business_id,
        session_id=row.id,
        persona_id=meta.get("persona_id"),
        persona=personas.PersonaStyle(persona_name=meta.get("persona_name") or "Assistant"),
        policy_version=meta.get("policy_version"),
        customer_email=row.customer_email or "",
        order_id=meta.get("order_id"),
        chat_mode=row.chat_mode or "normal",
        simulated_orders=[SimulatedOrder.model_validate(o) for o in meta.get("simulated_orders") or []],
        orders_anchor=datetime.fromisoformat(meta["orders_anchor"]) if meta.get("orders_anchor") else row.created_at,
    )


class TurnResult(BaseModel):
    customer: ChatTurn
    agent: ChatTurn
    reply: AgentReply


def send_message(uow: UnitOfWork, session_id: UUID, message: str, *, commit: bool = True) -> TurnResult:
    """Store the customer's message and the agent's reply (and any test return it opens) in one transaction."""
    personas.require_role(uow, LAB_ROLES, "chat in test sessions")
    body = (message or "").strip()
    if not body:
        raise Invalid("Type a message first.", {"message": "empty"})
    if len(body) > 4000:
        raise Invalid("That message is too long for one chat turn.", {"message": "at most 4000 characters"})
    limits.check_text(body, "message")  # a NUL byte or a lone surrogate would reach Postgres
    row = load_row(uow, session_id, lock=True)  # one turn at a time per session
    if row.is_active is False:
        raise Conflict("This session is archived; restore it to keep chatting.")
    meta = dict(row.metadata_ or {})
    ctx = _context(row, _shop_name(uow))
    persona = persona_row(uow, meta.get("persona_id"))
    if persona is not None:
        ctx.persona = personas.persona_style(persona.config_name, persona.config_data)
    state = AgentState.model_validate(meta.get("agent_state") or {})
    history = [{"sender": t.sender, "message": t.message} for t in messages(uow, session_id)]
    seq = len(history)
    customer = ChatMessage(session_id=row.id, sender="customer", message=body, message_type="text",
                           metadata_={"seq": seq, "test": True}, created_at=func.clock_timestamp())
    uow.session.add(customer)
    uow.session.flush()
    reply = respond(uow, ctx, state, body, history)
    agent_row = ChatMessage(session_id=row.id, sender="agent", message=reply.reply, message_type="text",
                            metadata_={**reply.message_metadata(), "seq": seq + 1, "persona_id": meta.get("persona_id")},
                            created_at=func.clock_timestamp())
    uow.session.add(agent_row)
    meta["agent_state"] = reply.state.model_dump(mode="json")
    row.metadata_ = meta
    row.updated_at = func.clock_timestamp()
    if persona is not None:
        personas.record_usage(uow, persona.id)
    uow.session.flush()
    audit.record(uow, "chat_session.turn", "chat_sessions", row.id, None,
                 {"intent": reply.intent, "order_id": reply.order_id,
                  "return_opened": reply.return_opened.id if reply.return_opened else None})
    if commit:
        uow.commit()
    for r in (customer, agent_row, row):
        uow.session.refresh(r)
    return TurnResult(
        customer=ChatTurn(id=customer.id, sender=customer.sender, message=customer.message,
                          created_at=customer.created_at, metadata=dict(customer.metadata_ or {})),
        agent=ChatTurn(id=agent_row.id, sender=agent_row.sender, message=agent_row.message,
                       created_at=agent_row.created_at, metadata=dict(agent_row.metadata_ or {})),
        reply=reply,
    )


def greeting(uow: UnitOfWork, session_id: UUID) -> str:
    """What the persona says first (shown above an empty transcript; not stored)."""
    row = load_row(uow, session_id)
    persona = persona_row(uow, (row.metadata_ or {}).get("persona_id"))
    style = personas.persona_style(persona.config_name, persona.config_data) if persona else \
        personas.PersonaStyle(persona_name="Assistant")
    return opening_line(style, row.chat_mode or "normal", _shop_name(uow))


def export_transcript(uow: UnitOfWork, session_id: UUID, fmt: Literal["json", "text"] = "json") -> str:
    session = get_session(uow, session_id)
    turns = messages(uow, session_id)
    if fmt == "json":
        return json.dumps({
            "session": {"id": str(session.id), "name": session.name, "chat_mode": session.chat_mode,
                        "persona": session.persona_name, "provider": session.provider,
                        "policy_version": session.policy_version, "customer_email": session.customer_email,
                        "order_id": session.order_id, "archived": not session.is_active,
                        "created_at": session.created_at.isoformat() if session.created_at else None},
            "messages": [{"sender": t.sender, "message": t.message,
                          "created_at": t.created_at.isoformat() if t.created_at else None,
                          "metadata": t.metadata} for t in turns],
        }, indent=2, ensure_ascii=False)
    if fmt != "text":
        raise Invalid(f"Unknown export format {fmt!r}; use json or text.")
    lines = [f"Test session: {session.name}",
             f"Persona: {session.persona_name or '—'} · Policy: {session.policy_version or '—'} · "
             f"Customer: {session.customer_email or '—'} · Mode: {session.chat_mode}", ""]
    for t in turns:
        who = (session.persona_name or "Agent") if t.is_agent else "Customer"
        when = f"{t.created_at:%Y-%m-%d %H:%M:%S}" if t.created_at else ""
        lines.append(f"[{when}] {who}: {t.message}")
        if t.is_agent and t.metadata.get("intent"):
            extra = f"intent={t.metadata['intent']} confidence={t.metadata.get('confidence')}"
            triage = t.metadata.get("triage") or {}
            if triage:
                extra += f" triage={triage.get('recommendation')}"
            opened = t.metadata.get("return_opened") or {}
            if opened:
                extra += f" test_return=#{opened.get('id')} ({opened.get('status')})"
            lines.append(f"    ({extra})")
    return "\n".join(lines) + "\n"


def test_returns(uow: UnitOfWork, session_id: UUID) -> pd.DataFrame:
    """The test returns this session opened (never shown in the live queue)."""
    rows = uow.session.execute(
        text("SELECT id, order_id, status, ai_recommendation, policy_version_used, created_at "
             "FROM return_requests WHERE business_id = :b AND test_session_id = :s AND is_test ORDER BY id"),
        {"b": uow.actor.business_id, "s": session_id},
    ).all()
    return pd.DataFrame([dict(r._mapping) for r in rows],
                        columns=["id", "order_id", "status", "ai_recommendation", "policy_version_used", "created_at"])
