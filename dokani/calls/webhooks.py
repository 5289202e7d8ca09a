"""The webhook receiver's domain: check who sent an event, store it raw, process it, retry failures.

- ElevenLabs signs ``"<t>.<raw body>"`` with HMAC-SHA256 under the business's secret and sends
  ``ElevenLabs-Signature: t=<unix>,v0=<hex>[,v0=<hex>...]``; older than ``MAX_AGE`` is stale.
  The business is found from the payload's agent id (its persona), then its secret decides.
- Tavus signs nothing: ``/webhooks/tavus/<token>`` with a per-business unguessable token.
- Nothing is written before the sender is verified (a flood of bad requests writes no rows). A verified event is
  committed raw to ``call_events`` and queued (``dokani.jobs``): the sender is answered 202 at once and a worker
  applies it in a transaction of its own (``apply_stored_event``); if that fails the event stays, ``failed`` with
  the error, and an admin can retry it from the Calls page.
- All database work here runs as role ``dokani_webhook`` with ``dokani.business_id`` set to the verified business
  (migration 0009): it sees that business's call and conversation rows only, and secrets only through two
  SECURITY DEFINER functions.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from contextlib import contextmanager
from typing import Iterator
from uuid import UUID

from pydantic import BaseModel
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from db.engine import app_engine
from db.uow import UnitOfWork
from dokani.calls import importer
from dokani.calls.webhook_secrets import token_hash
from dokani.errors import DokaniError, Invalid, NotAllowed, NotFound

log = logging.getLogger("dokani.calls.webhooks")
MAX_AGE = 30 * 60
WEBHOOK_ROLE = "dokani_webhook"
MAX_ERROR = 2000


class Receipt(BaseModel):
    status_code: int
    message: str
    event_id: int | None = None


# --- who sent it -----------------------------------------------------------------------------------------------

def parse_signature(header: str | None) -> tuple[int, list[str]] | None:
    if not header:
        return None
    t, sigs = None, []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            t = int(value)
        elif key == "v0" and value:
            sigs.append(value.lower())
    return (t, sigs) if t is not None and sigs else None


def signature_matches(secret: str, t: int, body: bytes, signatures: list[str]) -> bool:
    expected = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, s) for s in signatures)


def sign(secret: str, body: bytes, t: int | None = None) -> str:
    """The header ElevenLabs would send (for tests and for trying a webhook by hand)."""
    t = int(time.time()) if t is None else t
    return f"t={t},v0={hmac.new(secret.encode(), f'{t}.'.encode() + body, hashlib.sha256).hexdigest()}"


@contextmanager
def webhook_session(business_id: UUID | None) -> Iterator[Session]:
    """A session as ``dokani_webhook`` for one business (None: before the business is known)."""
    session = Session(app_engine(), expire_on_commit=False)

    def enter(sess, transaction, connection) -> None:
        connection.execute(text(f"SET LOCAL ROLE {WEBHOOK_ROLE}"))
        connection.execute(text("SELECT set_config('dokani.business_id', :b, true)"),
                           {"b": str(business_id) if business_id else ""})

    event.listen(session, "after_begin", enter)
    try:
        yield session
    finally:
        session.rollback()
        session.close()


def _json(body: bytes) -> dict | None:
    try:
        doc = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    return doc if isinstance(doc, dict) else None


def elevenlabs_business(header: str | None, body: bytes, now: float | None = None) -> UUID | None:
    """The business whose secret signed this body, or None (missing, malformed, stale or wrong signature)."""
    parsed = parse_signature(header)
    now = time.time() if now is None else now
    if parsed is None or abs(now - parsed[0]) > MAX_AGE:
        return None
    doc = _json(body)
    data = doc.get("data") if doc else None
    agent = data.get("agent_id") if isinstance(data, dict) else None
    if not isinstance(agent, str) or not agent:
        return None
    with webhook_session(None) as session:
        rows = session.execute(text("SELECT business_id, secret FROM dokani.elevenlabs_webhook_secrets(:a)"),
                               {"a": agent}).all()
    for business_id, secret in rows:
        if signature_matches(secret, parsed[0], body, parsed[1]):
            return business_id
    return None


def tavus_business(token: str) -> UUID | None:
    if not token or len(token) > 200:
        return None
    with webhook_session(None) as session:
        return session.execute(text("SELECT dokani.tavus_webhook_business(:h)"), {"h": token_hash(token)}).scalar()


# --- store, then process ---------------------------------------------------------------------------------------

def _store(business_id: UUID, provider: str, body: bytes) -> tuple[int, str]:
    """Commit the raw event; an event that does not parse is kept too, failed, with why."""
    raw = _json(body)
    with webhook_session(business_id) as session:
        try:
            ev = importer.parse_event(raw)
            event_id, status = importer.record_event(session, business_id, ev, raw, "webhook")
        except Invalid as err:
            digest = hashlib.sha256(body).hexdigest()
            kind = (raw or {}).get("type") or (raw or {}).get("event_type") or "unknown"
            row = session.execute(
                text("""
                    INSERT INTO call_events (business_id, provider, event_type, event_key, source, payload, status,
                                             error, attempts)
                    VALUES (:b, :p, :t, :k, 'webhook', CAST(:payload AS jsonb), 'failed', :e, 1)
                    ON CONFLICT (business_id, provider, event_key) DO NOTHING RETURNING id
                """), {"b": business_id, "p": provider, "t": str(kind)[:100], "k": f"unparsed:{digest}",
                       "payload": json.dumps(raw if raw is not None else {"unparsed_body": body.decode("utf-8", "replace")}),
                       "e": str(err)[:MAX_ERROR]}).first()
            session.commit()
            return (row.id if row else 0), "invalid"
        session.commit()
    return event_id, status


def _mark_failed(session_factory, business_id: UUID, event_id: int, error: str) -> None:
    with session_factory(business_id) as session:
        session.execute(text("UPDATE call_events SET status = 'failed', error = :e, attempts = attempts + 1 "
                             "WHERE id = :id AND business_id = :b"),
                        {"e": error[:MAX_ERROR], "id": event_id, "b": business_id})
        session.commit()


def process_event(session: Session, business_id: UUID, event_id: int) -> UUID:
    """Apply one stored event in `session` (the caller commits)."""
    row = session.execute(text("SELECT payload, status FROM call_events WHERE id = :id AND business_id = :b FOR UPDATE"),
                          {"id": event_id, "b": business_id}).first()
    if row is None:
        raise NotFound("No such event in this business.")
    ev = importer.parse_event(row.payload)
    importer.check_resolvable(session, business_id, [importer.SourcedEvent(name=f"event {event_id}", raw=row.payload,
                                                                           event=ev)])
    call_id = importer.apply_event(session, business_id, ev)
    importer.mark_processed(session, business_id, event_id, call_id)
    return call_id


def receive(provider: str, business_id: UUID, body: bytes) -> Receipt:
    """Store a verified event and queue its processing (``apply_stored_event`` on a worker): answered at once."""
    from dokani.jobs.enqueue import queue_webhook_event

    event_id, status = _store(business_id, provider, body)
    if status == "invalid":
        return Receipt(status_code=422, message="event stored but not understood; see the Calls page", event_id=event_id)
    if status == "processed":
        return Receipt(status_code=200, message="already received", event_id=event_id)
    try:
        queue_webhook_event(business_id, event_id)
    except Exception as err:  # kept, failed, retryable from the Calls page: the provider need not resend
        log.exception("webhook event %s could not be queued", event_id)
        _mark_failed(webhook_session, business_id, event_id,
                     f"stored, but it could not be queued for processing ({type(err).__name__}); retry it")
        return Receipt(status_code=202, message="stored; processing could not be queued and can be retried",
                       event_id=event_id)
    return Receipt(status_code=202, message="stored; queued for processing", event_id=event_id)


def apply_stored_event(business_id: UUID, event_id: int) -> str:
    """What a worker does with a queued event: apply it in one transaction as ``dokani_webhook`` ("processed"),
    or record why not ("failed", retryable from the Calls page). An event processed already is left alone, so a
    queue entry run twice (a worker killed after committing) applies it once. An unexpected error is recorded
    and raised again: the queue tries again."""
    try:
        with webhook_session(business_id) as session:
            status = session.execute(text("SELECT status FROM call_events WHERE id = :id AND business_id = :b "
                                          "FOR UPDATE"), {"id": event_id, "b": business_id}).scalar()
            if status is None or status == "processed":
                return status or "gone"
            process_event(session, business_id, event_id)
            session.commit()
    except DokaniError as err:
        _mark_failed(webhook_session, business_id, event_id, str(err) or type(err).__name__)
        return "failed"
    except Exception as err:
        log.exception("webhook event %s failed", event_id)
        _mark_failed(webhook_session, business_id, event_id, f"{type(err).__name__}: {err}"[:MAX_ERROR])
        raise
    return "processed"


# --- failed events, for the Calls page -------------------------------------------------------------------------

class StoredEvent(BaseModel):
    id: int
    provider: str
    event_type: str
    conversation_id: str | None
    source: str
    status: str
    error: str | None
    attempts: int
    received_at: object


def failed_events(uow: UnitOfWork, limit: int = 50) -> list[StoredEvent]:
    rows = uow.session.execute(
        text("SELECT id, provider, event_type, conversation_id, source, status, error, attempts, received_at "
             "FROM call_events WHERE business_id = :b AND status <> 'processed' ORDER BY received_at DESC LIMIT :n"),
        {"b": uow.actor.business_id, "n": limit}).mappings().all()
    return [StoredEvent(**r) for r in rows]


def retry_event(uow: UnitOfWork, event_id: int) -> UUID:
    """An owner or admin retries a failed event; a new failure is recorded with its error and re-raised."""
    if uow.actor.role not in ("owner", "admin"):
        raise NotAllowed("Only owners and admins can retry events.")
    b = uow.actor.business_id
    try:
        call_id = process_event(uow.session, b, event_id)
        uow.commit()
        return call_id
    except DokaniError as err:
        uow.rollback()
        uow.session.execute(text("UPDATE call_events SET error = :e, attempts = attempts + 1, status = 'failed' "
                                 "WHERE id = :id AND business_id = :b"), {"e": str(err)[:MAX_ERROR], "id": event_id, "b": b})
        uow.commit()
        raise
