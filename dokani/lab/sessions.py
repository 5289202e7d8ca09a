"""Chat test sessions: a persona, a policy version and a simulated customer, talking to the agent.

Sessions are ``chat_sessions`` rows with ``session_type = 'test_mode'``; what the lab needs beyond the
document's columns lives in ``metadata``: ``persona_id``, ``policy_version``, ``order_id``, ``origin``
(``manual`` or ``suite``), ``simulated_orders`` and the agent's memory (``agent_state``).
This module opens, lists, renames and archives sessions; their messages are in ``conversations``.
"""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from uuid import UUID

import pandas as pd
from pydantic import BaseModel, Field
from sqlalchemy import Text, and_, cast, func, or_, select

from db.uow import UnitOfWork
from dokani import audit, limits
from dokani.lab import personas
from dokani.lab.agent import AgentState
from dokani.lab.orders import find_orders_by_id
from dokani.errors import Conflict, Invalid, NotFound
from dokani.models import ChatMessage, ChatSession, Policy, ProviderConfig

CHAT_MODES = ("normal", "messenger", "whatsapp", "shopify", "woocommerce")
SESSION_TYPE = "test_mode"
LAB_ROLES = ("owner", "admin", "tester")
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


def load_row(uow: UnitOfWork, session_id: UUID, lock: bool = False) -> ChatSession:
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
    row = load_row(uow, session_id)
    persona = persona_row(uow, (row.metadata_ or {}).get("persona_id"))
    return _session(row, persona)


def persona_row(uow: UnitOfWork, persona_id: Any) -> ProviderConfig | None:
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
        limits.check_text(search, "search", limits.MAX_SEARCH)  # a NUL byte would reach Postgres
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
        persona = persona_row(uow, draft.persona_id)
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
        found = find_orders_by_id(uow, [order_id])
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
    for field in ("name", "customer_email", "order_id", "policy_version", "chat_mode"):
        if isinstance(getattr(draft, field), str):
            limits.check_text(getattr(draft, field), field, 400)  # NUL bytes refused here, not by Postgres
    persona, policy, email, order_id = _validate_draft(uow, draft)
    meta = {
        "persona_id": str(persona.id), "persona_name": persona.config_name, "provider": persona.provider,
        "policy_version": policy.version, "order_id": order_id, "origin": origin,
        "created_by": str(uow.actor.user_id), "agent_state": AgentState().model_dump(mode="json"),
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

def _expect(row: ChatSession, expected_updated_at: datetime | None) -> None:
    if expected_updated_at is not None and row.updated_at != expected_updated_at:
        raise Conflict("This session changed since you opened it (a new message or another edit); reload and try again.")


def rename_session(uow: UnitOfWork, session_id: UUID, name: str, expected_updated_at: datetime | None) -> TestSession:
    personas.require_role(uow, LAB_ROLES, "rename test sessions")
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise Invalid("A session name has 1 to 120 characters.", {"name": "1 to 120 characters"})
    row = load_row(uow, session_id, lock=True)
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
    row = load_row(uow, session_id, lock=True)
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
