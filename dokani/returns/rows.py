"""One return request as stored: its audit entity, the acting business, and the row with its version.

The version is Postgres' ``xmin`` of the row as text: decisions hand it back to prove the reviewer saw the
current state (``dokani.returns.decisions``).
"""
from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.orm import Session

from db.uow import UnitOfWork
from dokani.errors import NotAllowed
from dokani.returns.filters import AGE_HOURS

ENTITY = "return_requests"  # audit_log.entity of a return request; entity_id is its id


def acting_business(uow: UnitOfWork) -> UUID:
    """The business the user is working in; every returns service needs one."""
    if uow.actor.business_id is None:
        raise NotAllowed("Choose a business first.")
    return uow.actor.business_id


def fetch_return(session: Session, business_id: UUID, *, return_id: int | None = None, public_id: UUID | None = None,
                 lock: bool = False) -> Any:
    """One return of the business by id or public id, with its version, reason code and age; None if not there."""
    where = "r.id = :id" if return_id is not None else "r.public_id = :pid"
    return session.execute(
        text(
            f"SELECT r.*, CAST(r.xmin AS text) AS version, {AGE_HOURS} AS age_hours "
            f"FROM return_requests r WHERE r.business_id = :b AND {where}" + (" FOR UPDATE" if lock else "")
        ),
        {"b": business_id, "id": return_id, "pid": public_id},
    ).mappings().first()

