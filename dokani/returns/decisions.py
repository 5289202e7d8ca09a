"""Decisions on returns: approve, deny, escalate or complete one return, or approve / deny many at once.

Only owners, admins and reviewers decide (``require_decider``, read from Postgres). Decisions are optimistic:
the caller hands back the version it saw (Postgres' ``xmin`` of the row), and a decision on a row that changed
since is refused with who changed it and when (``explain_change``). Each decision is one transaction with its
audit row.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable, Literal
from uuid import UUID

from pydantic import BaseModel, Field
from sqlalchemy import text

from db.uow import UnitOfWork
from dokani import audit, limits
from dokani.errors import Conflict, Invalid, NotAllowed, NotFound
from dokani.returns.rows import ENTITY, acting_business, fetch_return
from dokani.risk.scoring import refresh_customers
from dokani.returns.status import (
    ACTION_TARGET,
    ACTIONS_NEEDING_REASON,
    APPROVED,
    COMPLETED,
    DECIDING_ROLES,
    DENIED,
    ESCALATED,
    HUMAN_TRANSITIONS,
    Action,
    label,
    may_human_move,
)


MAX_BULK = 1000  # returns one bulk decision may take: one UPDATE and one audit INSERT for all of them


class DecisionOutcome(BaseModel):
    id: int
    public_id: UUID
    action: str
    from_status: str | None
    to_status: str
    version: str = Field(description="the row's new version")
    decided_at: datetime


class RowConflict(BaseModel):
    id: int
    public_id: UUID | None
    message: str


class BulkOutcome(BaseModel):
    action: str
    decided: list[DecisionOutcome]
    conflicts: list[RowConflict]


class SeenReturn(BaseModel):
    """A return as the reviewer saw it: its id and the version shown on their screen."""

    id: int
    version: str


_SNAPSHOT = ("status", "admin_notes", "admin_decision_at", "approved_at", "denied_at", "escalation_reason")


def _snapshot(row: Any) -> dict[str, Any]:
    return {k: row[k] for k in _SNAPSHOT}


def require_decider(uow: UnitOfWork) -> UUID:
    """The acting user's role in the current business, read from Postgres (the UI is not trusted)."""
    business_id = acting_business(uow)
    role = uow.session.execute(text("SELECT dokani.member_role(:b)"), {"b": business_id}).scalar()
    if role not in DECIDING_ROLES:
        raise NotAllowed(
            f"Your role here is {role or 'none'}: only owners, admins and reviewers can decide returns."
        )
    return business_id


def _check_note(action: str, note: str | None) -> str | None:
    if action not in ACTION_TARGET:
        raise Invalid(f"Unknown action {action!r}.", {"action": "approve, deny, escalate or complete"})
    cleaned = (note or "").strip() or None
    if cleaned:
        limits.check_text(cleaned, "Note")  # a NUL byte would reach Postgres
    if cleaned and len(cleaned) > 5000:
        raise Invalid("The note is too long (5,000 characters at most).", {"Note": "at most 5,000 characters"})
    if action in ACTIONS_NEEDING_REASON and not cleaned:
        verb = "deny" if action == "deny" else "escalate"
        raise Invalid(f"Say why you {verb} this return: write the reason in the Note.", {"Note": f"a reason is needed to {verb}"})
    return cleaned


def _fmt_time(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    return str(value) if value else "an unknown time"


def explain_change(uow: UnitOfWork, row: Any) -> str:
    """Who did what to this return, and when: the last audit entry (or what is known without one)."""
    last = uow.session.execute(
        text(
            "SELECT actor_email, actor_id, action, created_at, note, after ->> 'status' AS status FROM audit_log "
            "WHERE entity = :e AND entity_id = :id ORDER BY id DESC LIMIT 1"
        ),
        {"e": ENTITY, "id": str(row["id"])},
    ).mappings().first()
    now = label(row["status"]).lower()
    if last is None:
        when = row["admin_decision_at"]
        return f"It changed since you opened it and is now {now}" + (f" (decided {_fmt_time(when)})" if when else "") + "."
    who = last["actor_email"] or str(last["actor_id"] or "someone")
    verb = {"approve": "approved", "deny": "denied", "escalate": "escalated", "complete": "completed",
            "triage": "triaged"}.get(last["action"], last["action"])
    text_ = f"{who} {verb} it at {_fmt_time(last['created_at'])}; it is now {now}."
    if last["note"]:
        text_ += f" Their note: {last['note'][:200]}"
    return text_


def _decision_sets(action: str, note: str | None) -> str:
    target = ACTION_TARGET[action]
    sets = ["status = :target", "admin_decision_at = timezone('utc', now())"]
    if note:
        sets.append("admin_notes = :note")
    if target == APPROVED:
        sets.append("approved_at = timezone('utc', now())")
    elif target == DENIED:
        sets.append("denied_at = timezone('utc', now())")
    elif target == ESCALATED:
        sets.append("escalation_reason = :note")
    elif target == COMPLETED:
        sets = ["status = :target"]
    return ", ".join(sets)


def _apply(uow: UnitOfWork, rows: list[Any], action: str, note: str | None) -> list[DecisionOutcome]:
    """Decide `rows` (locked, checked) in one UPDATE and record them in one multi-row audit INSERT."""
    if not rows:
        return []
    target = ACTION_TARGET[action]
    changed = uow.session.execute(
        text(
            f"UPDATE return_requests r SET {_decision_sets(action, note)} "
            f"FROM unnest(CAST(:ids AS bigint[]), CAST(:versions AS text[])) AS seen(id, version) "
            f"WHERE r.business_id = :b AND r.id = seen.id AND CAST(r.xmin AS text) = seen.version "
            f"RETURNING r.*, CAST(r.xmin AS text) AS version, timezone('utc', now()) AS decided_at"
        ),
        {"target": target, "note": note, "b": rows[0]["business_id"], "ids": [r["id"] for r in rows],
         "versions": [r["version"] for r in rows]},
    ).mappings().all()
    if len(changed) != len(rows):  # cannot happen under the row locks; never write blind
        raise Conflict("Some of these returns changed while your decision was being saved. Nothing was changed.")
    after = {r["id"]: r for r in changed}
    audit.record_many(uow, [
        audit.Entry(action, ENTITY, row["id"], before=_snapshot(row), after=_snapshot(after[row["id"]]), note=note)
        for row in rows
    ])
    return [DecisionOutcome(id=row["id"], public_id=row["public_id"], action=action, from_status=row["status"],
                            to_status=target, version=after[row["id"]]["version"],
                            decided_at=after[row["id"]]["decided_at"]) for row in rows]


def _refuse_illegal(row: Any, action: str) -> str | None:
    target = ACTION_TARGET[action]
    if may_human_move(row["status"], target):
        return None
    if row["status"] == "pending_triage":
        return "This return has not been triaged yet: run triage first."
    return f"A return that is {label(row['status']).lower()} cannot be {ACTION_TARGET[action].replace('_', ' ')}."


def _snapshot_sql(alias: str) -> str:
    return "jsonb_build_object(" + ", ".join(f"'{k}', {alias}.{k}" for k in _SNAPSHOT) + ")"


# One decision in one statement: lock the row if it is still the version the reviewer saw, in a status the action
# may leave, and the actor may decide here; update it; write its audit row (before and after). No row back: one of
# those did not hold, and `_why_not_decided` says which.
_DECIDE_ONE = """
WITH seen AS (
  SELECT r.id, r.public_id, r.customer_email, {before_cols}
  FROM return_requests r
  WHERE r.business_id = :b AND r.id = :id AND CAST(r.xmin AS text) = :version AND r.status = ANY(:from_statuses)
    AND dokani.member_role(:b) = ANY(:deciders)
  FOR UPDATE
),
decided AS (
  UPDATE return_requests r SET {sets}
  FROM seen WHERE r.id = seen.id AND r.business_id = :b
  RETURNING r.id, seen.public_id, seen.customer_email, seen.status AS from_status, {before_json} AS before,
            {after_json} AS after, CAST(r.xmin AS text) AS version, timezone('utc', now()) AS decided_at
),
audited AS (
  INSERT INTO audit_log (business_id, actor_id, actor_email, action, entity, entity_id, before, after, note)
  SELECT :b, :actor_id, :actor_email, :action, :entity, CAST(d.id AS text), d.before, d.after, :note FROM decided d
  RETURNING 1
)
SELECT d.id, d.public_id, d.customer_email, d.from_status, d.version, d.decided_at, (SELECT count(*) FROM audited) AS audited
FROM decided d
"""


def _decide_one_sql(action: str, note: str | None) -> str:
    before_cols = ", ".join(f"r.{k}" for k in _SNAPSHOT)
    return _DECIDE_ONE.format(before_cols=before_cols, sets=_decision_sets(action, note),
                              before_json=_snapshot_sql("seen"), after_json=_snapshot_sql("r"))


def _why_not_decided(uow: UnitOfWork, business_id: UUID, return_id: int, action: str, expected_version: str) -> None:
    """The decision wrote nothing: raise what stopped it, checked in the order a reviewer needs to hear it."""
    require_decider(uow)
    row = fetch_return(uow.session, business_id, return_id=return_id)
    if row is None:
        raise NotFound("No return with that id in this business.")
    if row["version"] != expected_version:
        raise Conflict("Your decision was not saved: this return changed since you opened it. " + explain_change(uow, row))
    problem = _refuse_illegal(row, action)
    if problem:
        raise NotAllowed(problem)
    raise Conflict("Your decision was not saved: this return changed while it was being saved. " + explain_change(uow, row))


def decide_return(uow: UnitOfWork, return_id: int, action: Action, *, expected_version: str,
                  note: str | None = None) -> DecisionOutcome:
    """Approve, deny, escalate (or complete) one return, if it is still as the reviewer saw it.

    One transaction: the row (status, admin_notes, admin_decision_at, approved_at / denied_at,
    escalation_reason) and an audit row with before and after, written by one statement that also checks the
    actor's role, the version and the transition; then the customer's risk profile is refreshed. A stale
    `expected_version` raises `Conflict` naming who changed the return and when; nothing is written then.
    """
    note = _check_note(action, note)
    business_id = acting_business(uow)
    target = ACTION_TARGET[action]
    actor = uow.actor
    row = uow.session.execute(text(_decide_one_sql(action, note)), {
        "b": business_id, "id": return_id, "version": expected_version, "target": target, "note": note,
        "from_statuses": sorted(s for s, targets in HUMAN_TRANSITIONS.items() if target in targets),
        "deciders": sorted(DECIDING_ROLES), "actor_id": actor.user_id, "actor_email": actor.email,
        "action": action, "entity": ENTITY,
    }).mappings().first()
    if row is None:
        _why_not_decided(uow, business_id, return_id, action, expected_version)
    refresh_customers(uow, [row["customer_email"]])  # a denial or a refund is part of the customer's history
    uow.commit()
    return DecisionOutcome(id=row["id"], public_id=row["public_id"], action=action, from_status=row["from_status"],
                           to_status=target, version=row["version"], decided_at=row["decided_at"])


def decide_returns(uow: UnitOfWork, seen: Iterable[SeenReturn], action: Literal["approve", "deny"], *,
                   note: str | None = None) -> BulkOutcome:
    """Bulk approve / deny with one note, in one transaction; rows that changed or cannot move are reported."""
    if action not in ("approve", "deny"):
        raise Invalid("Bulk decisions are approve or deny.", {"action": "approve or deny"})
    note = _check_note(action, note)
    business_id = require_decider(uow)
    wanted = {s.id: s.version for s in seen}
    if not wanted:
        raise Invalid("Select at least one return.", {"selection": "nothing selected"})
    if len(wanted) > MAX_BULK:
        raise Invalid(f"At most {MAX_BULK:,} returns at once.", {"selection": "too many"})
    rows = uow.session.execute(
        text(
            "SELECT r.*, CAST(r.xmin AS text) AS version FROM return_requests r "
            "WHERE r.business_id = :b AND r.id = ANY(:ids) ORDER BY r.id FOR UPDATE"
        ),
        {"b": business_id, "ids": list(wanted)},
    ).mappings().all()
    by_id = {r["id"]: r for r in rows}
    ready: list[Any] = []
    conflicts: list[RowConflict] = []
    for rid in sorted(wanted):
        row = by_id.get(rid)
        if row is None:
            conflicts.append(RowConflict(id=rid, public_id=None, message="not found in this business"))
        elif row["version"] != wanted[rid]:
            conflicts.append(RowConflict(id=rid, public_id=row["public_id"], message=explain_change(uow, row)))
        elif problem := _refuse_illegal(row, action):
            conflicts.append(RowConflict(id=rid, public_id=row["public_id"], message=problem))
        else:
            ready.append(row)
    decided = _apply(uow, ready, action, note)
    refresh_customers(uow, [r["customer_email"] for r in ready])  # set-based, like the decisions
    uow.commit()
    return BulkOutcome(action=action, decided=decided, conflicts=conflicts)
