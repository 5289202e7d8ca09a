"""Return-policy versions as the console reads them: the ``PolicyVersion`` model with every period it was in
force (``policy_activations``, kept by Postgres), listing, the active version and the one in force, a version's
audit timeline, and the editor-role check every write starts with.

The writes (draft, save, schedule, activate, roll back) are in ``dokani.policies.lifecycle``.
"""
from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select, text

from db.uow import UnitOfWork
from dokani import audit
from dokani.errors import NotAllowed, NotFound
from dokani.models import AuditLog, Policy, PolicyActivation

ENTITY = "policy"
EDITOR_ROLES = ("owner", "admin")
STATES = ("draft", "scheduled", "active", "retired")


class PeriodInForce(BaseModel):
    """One period a version governed the business's returns; ``ended_at`` None while it still does."""

    started_at: datetime
    ended_at: datetime | None
    how: str  # activated | scheduled | rolled_back | recorded (written already active or retired)


class PolicyVersion(BaseModel):
    """One version as the console shows it. ``effective_date`` is when it first took effect."""

    id: int
    business_id: Any
    version: str
    state: str
    effective_date: datetime | None
    created_at: datetime | None
    updated_at: datetime | None
    retired_at: datetime | None
    lock_version: int
    based_on_id: int | None
    rules: dict
    policy_impact_score: float | None
    usage_statistics: dict
    compliance_metrics: dict
    metrics_computed_at: datetime | None = None  # when the worker last computed the three above (None: not yet)
    last_changed_by: str | None = None
    last_changed_at: datetime | None = None
    last_action: str | None = None
    periods: list[PeriodInForce] = []  # oldest first

    @property
    def editable(self) -> bool:
        return self.state == "draft"

    @property
    def active_since(self) -> datetime | None:
        """The start of the period in force now (an active version), else None."""
        open_ = [p for p in self.periods if p.ended_at is None]
        if self.state != "active":
            return None
        return open_[-1].started_at if open_ else self.effective_date


def db_now(uow: UnitOfWork) -> datetime:
    """The database's clock (the one effective dates and schedules are compared with)."""
    return uow.session.execute(text("SELECT LOCALTIMESTAMP")).scalar_one()


def as_dict(value: Any) -> dict:
    """A JSON column as a dict: rows written by other tools sometimes hold a JSON string, or nothing."""
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}
    return {}


def _to_model(row: Policy, changed: dict[str, tuple] | None = None,
              periods: dict[int, list[PeriodInForce]] | None = None) -> PolicyVersion:
    who, when, action = (changed or {}).get(str(row.id), (None, None, None))
    score = row.policy_impact_score
    return PolicyVersion(
        id=row.id,
        business_id=row.business_id,
        version=row.version,
        state=row.state,
        effective_date=row.effective_date,
        created_at=row.created_at,
        updated_at=row.updated_at,
        retired_at=row.retired_at,
        lock_version=row.lock_version,
        based_on_id=row.based_on_id,
        rules=as_dict(row.rules),
        policy_impact_score=float(score) if isinstance(score, Decimal) else score,
        usage_statistics=as_dict(row.usage_statistics),
        compliance_metrics=as_dict(row.compliance_metrics),
        metrics_computed_at=row.metrics_computed_at,
        last_changed_by=who,
        last_changed_at=when,
        last_action=action,
        periods=(periods or {}).get(row.id, []),
    )


def last_changes(uow: UnitOfWork, ids: list[int]) -> dict[str, tuple]:
    """Latest audit row per policy id: (who, when, action)."""
    if not ids:
        return {}
    rows = uow.session.execute(
        select(AuditLog.entity_id, AuditLog.actor_email, AuditLog.actor_id, AuditLog.created_at, AuditLog.action)
        .where(
            AuditLog.business_id == uow.actor.business_id,
            AuditLog.entity == ENTITY,
            AuditLog.entity_id.in_([str(i) for i in ids]),
        )
        .order_by(AuditLog.entity_id, AuditLog.created_at.desc(), AuditLog.id.desc())
        .distinct(AuditLog.entity_id)
    ).all()
    return {r.entity_id: (r.actor_email or (str(r.actor_id) if r.actor_id else None), r.created_at, r.action) for r in rows}


def periods_in_force(uow: UnitOfWork, ids: list[int]) -> dict[int, list[PeriodInForce]]:
    """Every period each of these versions was in force, oldest first."""
    if not ids:
        return {}
    out: dict[int, list[PeriodInForce]] = {}
    for r in uow.session.scalars(
        select(PolicyActivation)
        .where(PolicyActivation.business_id == uow.actor.business_id, PolicyActivation.policy_id.in_(ids))
        .order_by(PolicyActivation.started_at, PolicyActivation.id)
    ):
        out.setdefault(r.policy_id, []).append(PeriodInForce(started_at=r.started_at, ended_at=r.ended_at, how=r.how))
    return out


def list_versions(uow: UnitOfWork) -> list[PolicyVersion]:
    """Every version of the acting business, newest first, with who changed it last (from the audit log)."""
    rows = list(
        uow.session.scalars(
            select(Policy)
            .where(Policy.business_id == uow.actor.business_id)
            .order_by(Policy.created_at.desc().nulls_last(), Policy.id.desc())
        )
    )
    ids = [r.id for r in rows]
    changed, periods = last_changes(uow, ids), periods_in_force(uow, ids)
    return [_to_model(r, changed, periods) for r in rows]


def get_version(uow: UnitOfWork, policy_id: int) -> PolicyVersion:
    row = load_row(uow, policy_id)
    return _to_model(row, last_changes(uow, [row.id]), periods_in_force(uow, [row.id]))


def active_version(uow: UnitOfWork) -> PolicyVersion | None:
    row = uow.session.scalar(
        select(Policy).where(Policy.business_id == uow.actor.business_id, Policy.is_active.is_(True))
    )
    return _to_model(row) if row else None


def version_in_force(uow: UnitOfWork, at: datetime | None = None) -> PolicyVersion | None:
    """The version that governs returns at `at` (default now): a scheduled version whose time has come
    wins over the active one even before `apply_due_schedules` has flipped it."""
    at = at or db_now(uow)
    due = uow.session.scalar(
        select(Policy)
        .where(Policy.business_id == uow.actor.business_id, Policy.state == "scheduled", Policy.effective_date <= at)
        .order_by(Policy.effective_date.desc(), Policy.id.desc())
        .limit(1)
    )
    return _to_model(due) if due else active_version(uow)


def load_row(uow: UnitOfWork, policy_id: int, *, lock: bool = False) -> Policy:
    """The ORM row of one version of the acting business (locked FOR UPDATE when asked), or NotFound."""
    stmt = select(Policy).where(Policy.id == policy_id, Policy.business_id == uow.actor.business_id)
    if lock:
        stmt = stmt.with_for_update()
    row = uow.session.scalar(stmt)
    if row is None:
        raise NotFound(f"Policy version #{policy_id} does not exist in this business.")
    return row


def require_editor(uow: UnitOfWork) -> None:
    role = uow.session.execute(text("SELECT dokani.member_role(:b)"), {"b": uow.actor.business_id}).scalar()  # from Postgres, not the UI
    if role not in EDITOR_ROLES:
        raise NotAllowed(
            f"Only an owner or admin may change policy versions; you are signed in as {role or 'no member'}."
        )


def history(uow: UnitOfWork, policy_id: int) -> list[dict]:
    """The audit timeline of one version, oldest first."""
    load_row(uow, policy_id)
    return [
        {"when": a.created_at, "who": a.actor_email, "action": a.action, "note": a.note}
        for a in audit.history(uow, ENTITY, policy_id)
    ]
