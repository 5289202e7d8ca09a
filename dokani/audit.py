"""The audit trail: every write-back records who did what to which row, before and after."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import insert, select

from db.uow import UnitOfWork
from dokani.models import AuditLog


def _jsonable(value: Any) -> Any:
    """Row snapshots hold datetimes, decimals and uuids; store them as JSON-friendly values."""
    return json.loads(json.dumps(value, default=_default)) if value is not None else None


def _default(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, UUID):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def record(
    uow: UnitOfWork,
    action: str,
    entity: str,
    entity_id: Any,
    before: dict | None = None,
    after: dict | None = None,
    note: str | None = None,
) -> AuditLog:
    """Add an audit row to the unit of work's transaction (committed together with the change)."""
    actor = uow.actor
    row = AuditLog(
        business_id=actor.business_id,
        actor_id=actor.user_id,
        actor_email=actor.email,
        action=action,
        entity=entity,
        entity_id=str(entity_id),
        before=_jsonable(before),
        after=_jsonable(after),
        note=note,
    )
    uow.session.add(row)
    return row


@dataclass(frozen=True)
class Entry:
    action: str
    entity: str
    entity_id: Any
    before: dict | None = None
    after: dict | None = None
    note: str | None = None


def record_many(uow: UnitOfWork, entries: list[Entry]) -> None:
    """Add many audit rows in one multi-row INSERT (bulk decisions), in the unit of work's transaction."""
    if not entries:
        return
    actor = uow.actor
    uow.session.execute(insert(AuditLog), [
        {"business_id": actor.business_id, "actor_id": actor.user_id, "actor_email": actor.email, "action": e.action,
         "entity": e.entity, "entity_id": str(e.entity_id), "before": _jsonable(e.before), "after": _jsonable(e.after),
         "note": e.note}
        for e in entries
    ])


def history(uow: UnitOfWork, entity: str, entity_id: Any) -> list[AuditLog]:
    """The audit timeline of one row, oldest first."""
    return list(
        uow.session.scalars(
            select(AuditLog)
            .where(AuditLog.entity == entity, AuditLog.entity_id == str(entity_id))
            .order_by(AuditLog.created_at, AuditLog.id)
        )
    )
