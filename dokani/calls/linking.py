"""Which return a call was about, and how that was found.

In order: the return's public id among the call's dynamic variables, the order id, else the customer's email and
time (a return of that customer opened during the call or within ``AFTER_CALL`` of its end). A reviewer's link is
never overwritten by a later import; a reviewer may set or clear it (``correct_link``).
"""
from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.orm import Session

from db.uow import UnitOfWork
from dokani import audit
from dokani.calls.events_model import ImportEvent
from dokani.errors import Invalid, NotAllowed, NotFound

AFTER_CALL = timedelta(hours=2)
RETURN_ID_KEYS = ("return_public_id", "return_id", "return_request_id")
ORDER_ID_KEYS = ("order_id", "order_number", "order")
EMAIL_KEYS = ("customer_email", "email", "user_email")
METHODS = {"return_id": "return id given when the call started", "order_id": "order id given when the call started",
           "email_time": "customer email and time of the call", "reviewer": "set by a reviewer"}
CAN_CORRECT = ("owner", "admin", "reviewer")


class CallLink(BaseModel):
    return_request_id: int | None
    public_id: UUID | None = None
    order_id: str | None = None
    status: str | None = None
    policy_version_used: str | None = None
    method: str
    method_label: str
    detail: str | None = None


def customer_email(ev: ImportEvent) -> str | None:
    for key in EMAIL_KEYS:
        v = ev.dynamic_variables.get(key)
        if isinstance(v, str) and "@" in v:
            return v.strip().lower()
    if ev.customer_ref and "@" in ev.customer_ref:
        return ev.customer_ref.strip().lower()
    return None


def _find(session: Session, business_id: UUID, ev: ImportEvent) -> tuple[int, str, str] | None:
    dyn = ev.dynamic_variables
    for key in RETURN_ID_KEYS:
        raw = dyn.get(key)
        try:
            public = UUID(str(raw)) if raw is not None else None
        except ValueError:
            public = None
        if public:
            rid = session.execute(text("SELECT id FROM return_requests WHERE business_id = :b AND public_id = :p"),
                                  {"b": business_id, "p": public}).scalar()
            if rid:
                return rid, "return_id", f"{key}={public}"
    for key in ORDER_ID_KEYS:
        raw = dyn.get(key)
        if isinstance(raw, (str, int)) and str(raw).strip():
            rid = session.execute(
                text("SELECT id FROM return_requests WHERE business_id = :b AND order_id = :o "
                     "ORDER BY created_at DESC LIMIT 1"), {"b": business_id, "o": str(raw).strip()}).scalar()
            if rid:
                return rid, "order_id", f"{key}={raw}"
    email = customer_email(ev)
    if email and ev.started_at:
        end = (ev.ended_at or ev.started_at) + AFTER_CALL
        rid = session.execute(
            text("SELECT id FROM return_requests WHERE business_id = :b AND lower(customer_email) = :e "
                 "AND created_at >= :start AND created_at <= :end ORDER BY created_at LIMIT 1"),
            {"b": business_id, "e": email, "start": ev.started_at, "end": end}).scalar()
        if rid:
            return rid, "email_time", f"{email}, return opened by {end:%Y-%m-%d %H:%M} UTC"
    return None


def link_imported_call(session: Session, business_id: UUID, call_id: UUID, conversation_id: UUID | None,
                       ev: ImportEvent) -> None:
    """Link the call found by `ev` (no-op when nothing matches, or a reviewer already decided)."""
    current = session.execute(text("SELECT method FROM call_return_links WHERE call_session_id = :c"),
                              {"c": call_id}).scalar()
    if current == "reviewer":
        return
    found = _find(session, business_id, ev)
    if found is None:
        return
    rid, method, detail = found
    session.execute(
        text("""
            INSERT INTO call_return_links (call_session_id, business_id, return_request_id, method, detail)
            VALUES (:c, :b, :r, :m, :d)
            ON CONFLICT (call_session_id) DO UPDATE SET return_request_id = EXCLUDED.return_request_id,
              method = EXCLUDED.method, detail = EXCLUDED.detail, linked_at = now() AT TIME ZONE 'utc'
        """), {"c": call_id, "b": business_id, "r": rid, "m": method, "d": detail})
    if conversation_id:
        session.execute(text("UPDATE conversation_sessions SET return_request_id = :r WHERE id = :s AND business_id = :b"),
                        {"r": rid, "s": conversation_id, "b": business_id})


def call_link(uow: UnitOfWork, call_id: UUID) -> CallLink | None:
    row = uow.session.execute(
        text("""
            SELECT l.return_request_id, r.public_id, r.order_id, r.status, r.policy_version_used, l.method, l.detail
            FROM call_return_links l LEFT JOIN return_requests r ON r.id = l.return_request_id
            WHERE l.call_session_id = :c AND l.business_id = :b
        """), {"c": call_id, "b": uow.actor.business_id}).mappings().first()
    if row is None:
        return None
    return CallLink(**row, method_label=METHODS.get(row["method"], row["method"]))


def correct_link(uow: UnitOfWork, call_id: UUID, return_public_id: UUID | None, note: str | None = None) -> None:
    """A reviewer ties the call to another return (or to none: `return_public_id` None)."""
    if uow.actor.role not in CAN_CORRECT:
        raise NotAllowed("Only owners, admins and reviewers can change which return a call is about.")
    b = uow.actor.business_id
    visible = uow.session.execute(text("SELECT 1 FROM call_sessions WHERE id = :c"), {"c": call_id}).scalar()
    if not visible:
        raise NotFound("No such call in this business.")
    rid = None
    if return_public_id is not None:
        rid = uow.session.execute(text("SELECT id FROM return_requests WHERE business_id = :b AND public_id = :p"),
                                  {"b": b, "p": return_public_id}).scalar()
        if rid is None:
            raise Invalid(f"No return {return_public_id} in this business.")
    before = uow.session.execute(text("SELECT return_request_id, method FROM call_return_links WHERE call_session_id = :c"),
                                 {"c": call_id}).mappings().first()
    uow.session.execute(
        text("""
            INSERT INTO call_return_links (call_session_id, business_id, return_request_id, method, detail, linked_by)
            VALUES (:c, :b, :r, 'reviewer', :d, :u)
            ON CONFLICT (call_session_id) DO UPDATE SET return_request_id = EXCLUDED.return_request_id,
              method = 'reviewer', detail = EXCLUDED.detail, linked_by = EXCLUDED.linked_by,
              linked_at = now() AT TIME ZONE 'utc'
        """), {"c": call_id, "b": b, "r": rid, "d": (note or "").strip()[:500] or None, "u": uow.actor.user_id})
    audit.record(uow, "call.link_corrected", "call_sessions", call_id, before=dict(before) if before else None,
                 after={"return_request_id": rid, "method": "reviewer"}, note=note)


class ReturnCall(BaseModel):
    call_id: UUID
    created_at: object
    provider: str
    call_type: str
    status: str | None
    duration_seconds: int | None
    method: str


def calls_about_return(uow: UnitOfWork, return_request_id: int) -> list[ReturnCall]:
    rows = uow.session.execute(
        text("""
            SELECT c.id AS call_id, c.created_at, c.provider, c.call_type, c.status, c.duration_seconds, l.method
            FROM call_return_links l JOIN call_sessions c ON c.id = l.call_session_id
            WHERE l.business_id = :b AND l.return_request_id = :r ORDER BY c.created_at
        """), {"b": uow.actor.business_id, "r": return_request_id}).mappings().all()
    return [ReturnCall(**r) for r in rows]


class ReturnConversation(BaseModel):
    channel: str
    status: str | None
    current_intent: str | None
    escalation_level: int | None
    updated_at: object


def conversations_about_return(uow: UnitOfWork, return_request_id: int) -> list[ReturnConversation]:
    rows = uow.session.execute(
        text("SELECT channel, status, current_intent, escalation_level, updated_at FROM conversation_sessions "
             "WHERE business_id = :b AND return_request_id = :r ORDER BY created_at"),
        {"b": uow.actor.business_id, "r": return_request_id}).mappings().all()
    return [ReturnConversation(**r) for r in rows]
