"""Chat test sessions: a persona, a policy version and a simulated customer, talking to the agent.

Sessions are ``chat_sessions`` rows with ``session_type = 'test_mode'``; what the lab needs beyond the
document's columns lives in ``metadata``: ``persona_id``, ``policy_version``, ``order_id``, ``origin``
(``manual`` or ``suite``), ``simulated_orders`` and the agent's memory (``agent_state``).
Every turn is a ``chat_messages`` row; agent turns carry intent, confidence, order, triage and latency.
"""
from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

import pandas as pd
from pydantic import BaseModel, Field
from sqlalchemy import Text, and_, cast, func, or_, select, text

from db.uow import UnitOfWork
from dokani import audit
from dokani.lab import agent
from dokani.lab import personas
from dokani.errors import Conflict, Invalid, NotFound
from dokani.models import ChatMessage, ChatSession, Policy, Profile, ProviderConfig

CHAT_MODES = ("normal", "messenger", "whatsapp", "shopify", "woocommerce")
SESSION_TYPE = "test_mode"
LAB_ROLES = ("owner", "admin", "tester")
AGENT_SENDERS = ("agent", "assistant", "ai", "bot", "system")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class SessionDraft(BaseModel):
    name: str = ""
    chat_mode: str = "normal"
    persona_id: UUID | None = None
    policy_version: str | None = None
    customer_email: str = ""
    order_id: str | None = None


class TestSession(BaseModel):
    id: UUID
    name: str
    chat_mode: str
    persona_id: UUID | None
    persona_name: str | None
    provider: str | None
    policy_version: str | None
    customer_email: str | None
    order_id: str | None
    is_active: bool
    origin: str
    created_at: datetime | None
    updated_at: datetime | None
    metadata: dict[str, Any] = Field(default_factory=dict)


class SessionSummary(BaseModel):
    id: UUID
    name: str
    chat_mode: str
    persona_name: str | None
    policy_version: str | None
    customer_email: str | None
    is_active: bool
    origin: str
    messages: int
    updated_at: datetime | None


class ChatTurn(BaseModel):
    id: UUID
    sender: str
    message: str
    created_at: datetime | None
    metadata: dict[str, Any] = Field(default_factory=dict)

    @property
    def is_agent(self) -> bool:
        return self.sender.lower() in AGENT_SENDERS


class PolicyOption(BaseModel):
    version: str
    is_active: bool
    state: str
    created_at: datetime | None

    @property
    def label(self) -> str:
        return f"{self.version} ({self.state})"


# ------------------------------------------------------------------------------------------------------------
# Reading
# ------------------------------------------------------------------------------------------------------------


def policy_options(uow: UnitOfWork) -> list[PolicyOption]:
    """Versions a session may test: the active one first, then drafts (retired versions are left out)."""
    has_state = hasattr(Policy, "state")  # revision 0004's lifecycle column, when present
    cols = [Policy.version, Policy.is_active, Policy.created_at, Policy.effective_date,
            func.localtimestamp().label("now")]
    if has_state:
        cols.append(Policy.state)
    rows = uow.session.execute(
        select(*cols).where(Policy.business_id == uow.actor.business_id)
        .order_by(Policy.is_active.desc().nulls_last(), Policy.created_at.desc(), Policy.id.desc())
    ).all()
    out: list[PolicyOption] = []
    seen: set[str] = set()
    for r in rows:
        state = (r.state if has_state else None) or (
            "active" if r.is_active else
            "retired" if r.effective_date is not None and r.effective_date <= r.now else "draft")
        if state == "retired" or r.version in seen:
            continue
        seen.add(r.version)
        out.append(PolicyOption(version=r.version, is_active=bool(r.is_active), state=state, created_at=r.created_at))
    return out


def _session(row: ChatSession, persona: ProviderConfig | None = None) -> TestSession:
    meta = dict(row.metadata_ or {})
    persona_id = meta.get("persona_id")
    return TestSession(
        id=row.id,
        name=row.session_name or "Test Session",
        chat_mode=row.chat_mode or "normal",
        persona_id=UUID(persona_id) if persona_id else None,
        persona_name=persona.config_name if persona else meta.get("persona_name"),
        provider=persona.provider if persona else meta.get("provider"),
        policy_version=meta.get("policy_version"),
        customer_email=row.customer_email,
        order_id=meta.get("order_id"),
        is_active=row.is_active is not False,
        origin=meta.get("origin", "manual"),
        created_at=row.created_at,
        updated_at=row.updated_at,
        metadata=meta,
    )


def _load(uow: UnitOfWork, session_id: UUID, lock: bool = False) -> ChatSession:
    query = select(ChatSession).where(
        ChatSession.id == session_id, ChatSession.business_id == uow.actor.business_id,
        ChatSession.session_type == SESSION_TYPE,
    )
    if lock:
        query = query.with_for_update()
    row = uow.session.scalars(query).first()
    if row is None:
        raise NotFound("No test session with that id in this business.")
    return row


def get_session(uow: UnitOfWork, session_id: UUID) -> TestSession:
    row = _load(uow, session_id)
    persona = _persona_row(uow, (row.metadata_ or {}).get("persona_id"))
    return _session(row, persona)


def _persona_row(uow: UnitOfWork, persona_id: Any) -> ProviderConfig | None:
    if not persona_id:
        return None
    try:
        pid = UUID(str(persona_id))
    except ValueError:
        return None
    return uow.session.get(ProviderConfig, pid)


def list_sessions(
    uow: UnitOfWork,
    search: str | None = None,
    include_archived: bool = False,
    include_suite_runs: bool = False,
    limit: int = 50,
    after: tuple[datetime, UUID] | None = None,
) -> list[SessionSummary]:
    """Test sessions, most recently active first; `search` matches name, customer, persona or policy version.

    Keyset pagination: pass the last row's ``(updated_at, id)`` as `after` for the next page.
    """
    counts = (
        select(ChatMessage.session_id, func.count().label("n"))
        .group_by(ChatMessage.session_id).subquery()
    )
    persona_name = ProviderConfig.config_name
    query = (
        select(ChatSession, func.coalesce(counts.c.n, 0), persona_name)
        .outerjoin(counts, counts.c.session_id == ChatSession.id)
        .outerjoin(ProviderConfig, cast(ProviderConfig.id, Text) == ChatSession.metadata_["persona_id"].astext)
        .where(ChatSession.business_id == uow.actor.business_id, ChatSession.session_type == SESSION_TYPE)
    )
    if not include_archived:
        query = query.where(ChatSession.is_active.is_not(False))
    if not include_suite_runs:
        query = query.where(func.coalesce(ChatSession.metadata_["origin"].astext, "manual") != "suite")
    if search and search.strip():
        like = f"%{search.strip()}%"
        query = query.where(or_(
            ChatSession.session_name.ilike(like), ChatSession.customer_email.ilike(like),
            persona_name.ilike(like), ChatSession.metadata_["policy_version"].astext.ilike(like),
        ))
    if after is not None:
        ts, sid = after
        query = query.where(or_(ChatSession.updated_at < ts, and_(ChatSession.updated_at == ts, ChatSession.id < sid)))
    query = query.order_by(ChatSession.updated_at.desc().nulls_last(), ChatSession.id.desc()).limit(limit)
    out = []
    for row, n, pname in uow.session.execute(query).all():
        s = _session(row)
        out.append(SessionSummary(
            id=s.id, name=s.name, chat_mode=s.chat_mode, persona_name=pname or s.persona_name,
            policy_version=s.policy_version, customer_email=s.customer_email, is_active=s.is_active,
            origin=s.origin, messages=int(n), updated_at=s.updated_at,
        ))
    return out


def sessions_frame(summaries: list[SessionSummary]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"Session": s.name, "Persona": s.persona_name or "—", "Policy": s.policy_version or "—",
          "Customer": s.customer_email or "—", "Mode": s.chat_mode, "Messages": s.messages,
          "Last activity": s.updated_at, "Archived": not s.is_active} for s in summaries],
        columns=["Session", "Persona", "Policy", "Customer", "Mode", "Messages", "Last activity", "Archived"],
    )


def messages(uow: UnitOfWork, session_id: UUID) -> list[ChatTurn]:
    _load(uow, session_id)
    rows = uow.session.scalars(
        select(ChatMessage).where(ChatMessage.session_id == session_id)
        .order_by(ChatMessage.created_at, text("(metadata->>'seq')::int NULLS LAST"), ChatMessage.id)
    )
    return [ChatTurn(id=r.id, sender=r.sender, message=r.message, created_at=r.created_at,
                     metadata=dict(r.metadata_ or {})) for r in rows]


# ------------------------------------------------------------------------------------------------------------
# Writing
# ------------------------------------------------------------------------------------------------------------


def _validate_draft(uow: UnitOfWork, draft: SessionDraft) -> tuple[ProviderConfig, PolicyOption, str, str | None]:
    problems: dict[str, str] = {}
    if not draft.name.strip():
        problems["name"] = "give the session a name"
    elif len(draft.name.strip()) > 120:
        problems["name"] = "at most 120 characters"
    if draft.chat_mode not in CHAT_MODES:
        problems["chat_mode"] = f"one of {', '.join(CHAT_MODES)}"
    email = (draft.customer_email or "").strip().lower()
    if not _EMAIL.match(email):
        problems["customer_email"] = "a customer email address like alex@example.com"
    persona = None
    if draft.persona_id is None:
        problems["persona"] = "choose a persona"
    else:
        persona = _persona_row(uow, draft.persona_id)
        if persona is None or persona.business_id != uow.actor.business_id or persona.provider not in personas.PROVIDERS:
            problems["persona"] = "no such persona in this business"
        elif persona.is_active is False:
            problems["persona"] = f"{persona.config_name} is inactive"
    options = {o.version: o for o in policy_options(uow)}
    policy = options.get(draft.policy_version or "")
    if policy is None:
        problems["policy_version"] = "choose the active policy or a draft of this business"
    order_id = (draft.order_id or "").strip() or None
    if order_id and not problems.get("customer_email"):
        found = agent.find_orders_by_id(uow, [order_id])
        if not found:
            problems["order_id"] = f"no order {order_id} in this business"
        else:
            order_id = found[0].order_id
    if problems:
        raise Invalid("The test session cannot be created yet.", problems)
    return persona, policy, email, order_id


def create_session(uow: UnitOfWork, draft: SessionDraft, *, origin: str = "manual",
                   simulated_orders: list[dict] | None = None, extra: dict | None = None,
                   commit: bool = True) -> TestSession:
    personas.require_role(uow, LAB_ROLES, "open chat test sessions")
    persona, policy, email, order_id = _validate_draft(uow, draft)
    meta = {
        "persona_id": str(persona.id), "persona_name": persona.config_name, "provider": persona.provider,
        "policy_version": policy.version, "order_id": order_id, "origin": origin,
        "created_by": str(uow.actor.user_id), "agent_state": agent.AgentState().model_dump(mode="json"),
        **({"simulated_orders": simulated_orders} if simulated_orders else {}),
        **(extra or {}),
    }
    row = ChatSession(
        user_id=uow.actor.user_id, business_id=uow.actor.business_id, session_name=draft.name.strip(),
        chat_mode=draft.chat_mode, session_type=SESSION_TYPE, is_active=True, metadata_=meta, customer_email=email,
    )
    uow.session.add(row)
    uow.session.flush()
    uow.session.refresh(row)
    if simulated_orders:
        meta["orders_anchor"] = row.created_at.isoformat()
        row.metadata_ = dict(meta)
    audit.record(uow, "chat_session.create", "chat_sessions", row.id, None,
                 {"name": row.session_name, "chat_mode": row.chat_mode, "customer_email": email,
                  "persona_id": meta["persona_id"], "policy_version": policy.version, "order_id": order_id,
                  "origin": origin})
    if commit:
        uow.commit()
    return _session(row, persona)


def _shop_name(uow: UnitOfWork) -> str | None:
    return uow.session.scalar(select(Profile.business_name).where(Profile.business_id == uow.actor.business_id).limit(1))


def _context(row: ChatSession, shop: str | None = None) -> agent.AgentContext:
    meta = dict(row.metadata_ or {})
    return agent.AgentContext(
        shop_name=shop,
        business_id=row.business_id,
        session_id=row.id,
        persona_id=meta.get("persona_id"),
        persona=personas.PersonaStyle(persona_name=meta.get("persona_name") or "Assistant"),
        policy_version=meta.get("policy_version"),
        customer_email=row.customer_email or "",
        order_id=meta.get("order_id"),
        chat_mode=row.chat_mode or "normal",
        simulated_orders=[agent.SimulatedOrder.model_validate(o) for o in meta.get("simulated_orders") or []],
        orders_anchor=datetime.fromisoformat(meta["orders_anchor"]) if meta.get("orders_anchor") else row.created_at,
    )


class TurnResult(BaseModel):
    customer: ChatTurn
    agent: ChatTurn
    reply: agent.AgentReply


def send_message(uow: UnitOfWork, session_id: UUID, message: str, *, commit: bool = True) -> TurnResult:
    """Store the customer's message and the agent's reply (and any test return it opens) in one transaction."""
    personas.require_role(uow, LAB_ROLES, "chat in test sessions")
    body = (message or "").strip()
    if not body:
        raise Invalid("Type a message first.", {"message": "empty"})
    if len(body) > 4000:
        raise Invalid("That message is too long for one chat turn.", {"message": "at most 4000 characters"})
    row = _load(uow, session_id, lock=True)  # one turn at a time per session
    if row.is_active is False:
        raise Conflict("This session is archived; restore it to keep chatting.")
    meta = dict(row.metadata_ or {})
    ctx = _context(row, _shop_name(uow))
    persona_row = _persona_row(uow, meta.get("persona_id"))
    if persona_row is not None:
        ctx.persona = personas.persona_style(persona_row.config_name, persona_row.config_data)
    state = agent.AgentState.model_validate(meta.get("agent_state") or {})
    history = [{"sender": t.sender, "message": t.message} for t in messages(uow, session_id)]
    seq = len(history)
    customer = ChatMessage(session_id=row.id, sender="customer", message=body, message_type="text",
                           metadata_={"seq": seq, "test": True}, created_at=func.clock_timestamp())
    uow.session.add(customer)
    uow.session.flush()
    reply = agent.respond(uow, ctx, state, body, history)
    agent_row = ChatMessage(session_id=row.id, sender="agent", message=reply.reply, message_type="text",
                            metadata_={**reply.message_metadata(), "seq": seq + 1, "persona_id": meta.get("persona_id")},
                            created_at=func.clock_timestamp())
    uow.session.add(agent_row)
    meta["agent_state"] = reply.state.model_dump(mode="json")
    row.metadata_ = meta
    row.updated_at = func.clock_timestamp()
    if persona_row is not None:
        personas.record_usage(uow, persona_row.id)
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
    row = _load(uow, session_id)
    persona_row = _persona_row(uow, (row.metadata_ or {}).get("persona_id"))
    style = personas.persona_style(persona_row.config_name, persona_row.config_data) if persona_row else \
        personas.PersonaStyle(persona_name="Assistant")
    return agent.opening_line(style, row.chat_mode or "normal", _shop_name(uow))


def _expect(row: ChatSession, expected_updated_at: datetime | None) -> None:
    if expected_updated_at is not None and row.updated_at != expected_updated_at:
        raise Conflict("This session changed since you opened it (a new message or another edit); reload and try again.")


def rename_session(uow: UnitOfWork, session_id: UUID, name: str, expected_updated_at: datetime | None) -> TestSession:
    personas.require_role(uow, LAB_ROLES, "rename test sessions")
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise Invalid("A session name has 1 to 120 characters.", {"name": "1 to 120 characters"})
    row = _load(uow, session_id, lock=True)
    _expect(row, expected_updated_at)
    before = row.session_name
    row.session_name = name
    row.updated_at = func.clock_timestamp()
    uow.session.flush()
    audit.record(uow, "chat_session.rename", "chat_sessions", row.id, {"name": before}, {"name": name})
    uow.commit()
    uow.session.refresh(row)
    return _session(row)


def set_archived(uow: UnitOfWork, session_id: UUID, archived: bool, expected_updated_at: datetime | None) -> TestSession:
    """Archive (``is_active = false``) or restore a session."""
    personas.require_role(uow, LAB_ROLES, "archive test sessions")
    row = _load(uow, session_id, lock=True)
    _expect(row, expected_updated_at)
    if (row.is_active is False) == archived:
        raise Conflict("This session is already " + ("archived." if archived else "active."))
    row.is_active = not archived
    row.updated_at = func.clock_timestamp()
    uow.session.flush()
    audit.record(uow, "chat_session.archive" if archived else "chat_session.restore", "chat_sessions", row.id,
                 {"is_active": archived}, {"is_active": not archived})
    uow.commit()
    uow.session.refresh(row)
    return _session(row)


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
