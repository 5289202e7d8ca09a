"""Return-policy versions: draft, save, validate, activate now or on a date, roll back.

Lifecycle (column ``policies.state``, revision 0004)::

    draft ──save──▶ draft          (optimistic: the caller names the lock_version it read)
    draft ──activate──▶ active     (the previous active version becomes retired)
    draft ──schedule──▶ scheduled ──(its time comes)──▶ active
    scheduled ──cancel──▶ draft
    retired ──activate──▶ active   (a roll back)
    any version ──new draft from──▶ a new draft

Exactly one active version per business is enforced by Postgres (partial unique index
``policies_one_active_idx``); names are unique per business (``policies_business_version_key``).
Only owners and admins may write; every write is one transaction with its audit row.
"""
from __future__ import annotations

import importlib
import json
import re
from datetime import datetime
from decimal import Decimal
from typing import Any, Callable

from pydantic import BaseModel
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError

from db.uow import UnitOfWork
from dokani import audit
from dokani.errors import Conflict, Invalid, NotAllowed, NotFound
from dokani.models import AuditLog, Policy

ENTITY = "policy"
EDITOR_ROLES = ("owner", "admin")
STATES = ("draft", "scheduled", "active", "retired")
MAX_NAME = 60


class PolicyVersion(BaseModel):
    """One version as the console shows it."""

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
    last_changed_by: str | None = None
    last_changed_at: datetime | None = None
    last_action: str | None = None

    @property
    def editable(self) -> bool:
        return self.state == "draft"


# ---------------------------------------------------------------- reading


def _now(uow: UnitOfWork) -> datetime:
    """The database's clock (the one effective dates and schedules are compared with)."""
    return uow.session.execute(text("SELECT LOCALTIMESTAMP")).scalar_one()


def _to_model(row: Policy, changed: dict[str, tuple] | None = None) -> PolicyVersion:
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
        rules=_as_dict(row.rules),
        policy_impact_score=float(score) if isinstance(score, Decimal) else score,
        usage_statistics=_as_dict(row.usage_statistics),
        compliance_metrics=_as_dict(row.compliance_metrics),
        last_changed_by=who,
        last_changed_at=when,
        last_action=action,
    )


def _as_dict(value: Any) -> dict:
    if isinstance(value, dict):
        return value
    if isinstance(value, str):  # rows written by other tools sometimes hold a JSON string
        try:
            parsed = json.loads(value)
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}
    return {}


def _last_changes(uow: UnitOfWork, ids: list[int]) -> dict[str, tuple]:
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


def list_versions(uow: UnitOfWork) -> list[PolicyVersion]:
    """Every version of the acting business, newest first, with who changed it last (from the audit log)."""
    rows = list(
        uow.session.scalars(
            select(Policy)
            .where(Policy.business_id == uow.actor.business_id)
            .order_by(Policy.created_at.desc().nulls_last(), Policy.id.desc())
        )
    )
    changed = _last_changes(uow, [r.id for r in rows])
    return [_to_model(r, changed) for r in rows]


def get_version(uow: UnitOfWork, policy_id: int) -> PolicyVersion:
    row = _load(uow, policy_id)
    return _to_model(row, _last_changes(uow, [row.id]))


def active_version(uow: UnitOfWork) -> PolicyVersion | None:
    row = uow.session.scalar(
        select(Policy).where(Policy.business_id == uow.actor.business_id, Policy.is_active.is_(True))
    )
    return _to_model(row) if row else None


def version_in_force(uow: UnitOfWork, at: datetime | None = None) -> PolicyVersion | None:
    """The version that governs returns at `at` (default now): a scheduled version whose time has come
    wins over the active one even before `apply_due_schedules` has flipped it."""
    at = at or _now(uow)
    due = uow.session.scalar(
        select(Policy)
        .where(Policy.business_id == uow.actor.business_id, Policy.state == "scheduled", Policy.effective_date <= at)
        .order_by(Policy.effective_date.desc(), Policy.id.desc())
        .limit(1)
    )
    return _to_model(due) if due else active_version(uow)


def _load(uow: UnitOfWork, policy_id: int, *, lock: bool = False) -> Policy:
    stmt = select(Policy).where(Policy.id == policy_id, Policy.business_id == uow.actor.business_id)
    if lock:
        stmt = stmt.with_for_update()
    row = uow.session.scalar(stmt)
    if row is None:
        raise NotFound(f"Policy version #{policy_id} does not exist in this business.")
    return row


def _snapshot(row: Policy) -> dict:
    return {
        "version": row.version,
        "state": row.state,
        "is_active": row.is_active,
        "effective_date": row.effective_date,
        "lock_version": row.lock_version,
        "rules": row.rules,
    }


def require_editor(uow: UnitOfWork) -> None:
    role = uow.session.execute(text("SELECT dokani.member_role(:b)"), {"b": uow.actor.business_id}).scalar()  # from Postgres, not the UI
    if role not in EDITOR_ROLES:
        raise NotAllowed(
            f"Only an owner or admin may change policy versions; you are signed in as {role or 'no member'}."
        )


# ---------------------------------------------------------------- names

_LAST_NUMBER = re.compile(r"^(.*?)(\d+)(\D*)$")


def suggest_next_name(existing: list[str], base: str | None) -> str:
    """The next free name after `base`: its last number plus one ("v3" → "v4", "v1.1" → "v1.2",
    "v1.2-draft" → "v1.3-draft", "release-09" → "release-10"), continuing after the highest number already
    used with the same prefix and suffix and skipping names taken (case-insensitive). A name without a
    number gets " v2" appended."""
    taken = {n.strip().lower() for n in existing}
    base = (base or "").strip() or "v0"
    m = _LAST_NUMBER.match(base)
    if m:
        prefix, digits, suffix = m.groups()
    else:
        prefix, digits, suffix = base + " v", "1", ""
    number = int(digits)
    for name in existing:
        mm = _LAST_NUMBER.match(name.strip())
        if mm and mm.group(1) == prefix and mm.group(3) == suffix:
            number = max(number, int(mm.group(2)))
    width = len(digits) if digits.startswith("0") else 0
    while True:
        number += 1
        candidate = f"{prefix}{str(number).zfill(width)}{suffix}"
        if candidate.lower() not in taken:
            return candidate


def _check_name(uow: UnitOfWork, name: str, *, exclude_id: int | None = None) -> str:
    name = (name or "").strip()
    if not name:
        raise Invalid("Give the version a name.", {"version": "must not be empty"})
    if len(name) > MAX_NAME:
        raise Invalid("The version name is too long.", {"version": f"at most {MAX_NAME} characters"})
    clash = uow.session.scalar(
        select(Policy.id).where(
            Policy.business_id == uow.actor.business_id,
            func.lower(Policy.version) == name.lower(),
            Policy.id != (exclude_id or -1),
        )
    )
    if clash is not None:
        raise Invalid(f"A version named “{name}” already exists.", {"version": "names are unique per business"})
    return name


def suggested_name_for(uow: UnitOfWork, from_policy_id: int) -> str:
    source = _load(uow, from_policy_id)
    names = list(uow.session.scalars(select(Policy.version).where(Policy.business_id == uow.actor.business_id)))
    return suggest_next_name(names, source.version)


# ---------------------------------------------------------------- validation


def validate(raw: dict | str) -> tuple[dict | None, dict[str, str]]:
    """(rules as stored, problems). Delegates to the shared rules model; unknown keys are kept."""
    from dokani.policies.rules import validate_rules

    model, problems = validate_rules(raw)
    if model is None or problems:
        return None, dict(problems or {"rules": "invalid"})
    return rules_to_store(model), {}


def rules_to_store(model) -> dict:
    """What is written to ``policies.rules``: every field spelled out, unknown keys kept as they were."""
    return model.to_json()


def _validated_or_raise(raw: dict | str) -> dict:
    rules, problems = validate(raw)
    if problems:
        raise Invalid("The rules are not valid; nothing was saved. Fix the fields listed below.", problems)
    return rules  # type: ignore[return-value]


# ---------------------------------------------------------------- writes


def _commit(uow: UnitOfWork, conflict_message: str) -> None:
    try:
        uow.commit()
    except IntegrityError as err:
        uow.rollback()
        name = getattr(getattr(err.orig, "diag", None), "constraint_name", "") or ""
        if "one_active" in name:
            raise Conflict("Another version was activated at the same moment. Reload and try again.") from err
        if "business_version" in name:
            raise Invalid("A version with that name already exists.", {"version": "names are unique per business"}) from err
        raise Conflict(conflict_message) from err


def new_draft(uow: UnitOfWork, from_policy_id: int | None = None, name: str | None = None,
              rules: dict | None = None) -> PolicyVersion:
    """A new draft copied from any version (or from `rules` when there is no version yet)."""
    require_editor(uow)
    if from_policy_id is not None:
        source = _load(uow, from_policy_id)
        base_rules = _as_dict(source.rules)
        default_name = suggested_name_for(uow, from_policy_id)
    else:
        source = None
        base_rules = rules if rules is not None else {}
        names = list(uow.session.scalars(select(Policy.version).where(Policy.business_id == uow.actor.business_id)))
        default_name = suggest_next_name(names, names[0] if names else "v0")
    name = _check_name(uow, name or default_name)
    row = Policy(
        business_id=uow.actor.business_id,
        version=name,
        state="draft",
        is_active=False,
        rules=base_rules,
        based_on_id=source.id if source else None,
        lock_version=0,
    )
    uow.session.add(row)
    uow.session.flush()
    audit.record(uow, "policy.draft_created", ENTITY, row.id, None, _snapshot(row),
                 note=f"from {source.version}" if source else None)
    _commit(uow, "The draft could not be created because the versions changed. Reload and try again.")
    return get_version(uow, row.id)


def save_draft(uow: UnitOfWork, policy_id: int, rules: dict | str, expected_lock_version: int,
               name: str | None = None) -> PolicyVersion:
    """Save a draft's rules (and name). Refused, with nothing written, when the rules are invalid, the
    version is not a draft, or someone saved it since `expected_lock_version` was read."""
    require_editor(uow)
    stored = _validated_or_raise(rules)
    row = _load(uow, policy_id, lock=True)
    if row.state != "draft":
        raise NotAllowed(f"Version {row.version} is {row.state}: only drafts can be edited. Make a new draft from it.")
    if row.lock_version != expected_lock_version:
        who = _last_changes(uow, [row.id]).get(str(row.id), (None, None, None))
        by = f" by {who[0]}" if who[0] else ""
        at = f" at {who[1]:%H:%M:%S}" if who[1] else ""
        raise Conflict(
            f"Version {row.version} was saved{by}{at} after you opened it, so your save was refused and nothing "
            "was overwritten. Your edits are still in the editor: copy them, reload the version, and apply them again."
        )
    new_name = _check_name(uow, name, exclude_id=row.id) if name is not None else row.version
    before = _snapshot(row)
    result = uow.session.execute(
        update(Policy)
        .where(Policy.id == row.id, Policy.lock_version == expected_lock_version, Policy.state == "draft")
        .values(rules=stored, version=new_name, lock_version=Policy.lock_version + 1, updated_at=func.localtimestamp())
        .returning(Policy.id)
    ).first()
    if result is None:  # cannot happen while we hold the row lock; kept as the database-level guarantee
        raise Conflict(f"Version {row.version} changed while saving; nothing was written.")
    uow.session.refresh(row)
    audit.record(uow, "policy.draft_saved", ENTITY, row.id, before, _snapshot(row))
    _commit(uow, "The draft changed while saving; nothing was written.")
    return get_version(uow, row.id)


def delete_draft(uow: UnitOfWork, policy_id: int, expected_lock_version: int) -> None:
    require_editor(uow)
    row = _load(uow, policy_id, lock=True)
    if row.state != "draft":
        raise NotAllowed(f"Version {row.version} is {row.state}: only drafts can be deleted.")
    if row.lock_version != expected_lock_version:
        raise Conflict(f"Version {row.version} was saved by someone else since you opened it; not deleted.")
    before = _snapshot(row)
    uow.session.execute(
        text("UPDATE public.policies SET based_on_id = NULL WHERE based_on_id = :id"), {"id": row.id}
    )
    uow.session.delete(row)
    audit.record(uow, "policy.draft_deleted", ENTITY, policy_id, before, None)
    _commit(uow, "The draft could not be deleted.")


SuiteGate = Callable[[UnitOfWork, str], Any]


def _suite_gate() -> SuiteGate | None:
    """``dokani.lab.suites.latest_suite_result`` when the chat test lab provides it, else None."""
    try:
        module = importlib.import_module("dokani.lab.suites")
    except ImportError:
        return None
    return getattr(module, "latest_suite_result", None)


def suite_gate_available() -> bool:
    """True when the chat test lab's scenario suites can gate activation."""
    return _suite_gate() is not None


def _check_suite(uow: UnitOfWork, row: Policy, require_passing_suite: bool, override_note: str | None) -> str | None:
    """The optional gate "activation requires a passing scenario suite". Returns a note for the audit row."""
    if not require_passing_suite:
        return None
    gate = _suite_gate()
    if gate is None:
        return "suite gate requested but the scenario lab is not installed; not checked"
    result = gate(uow, row.version)
    # dokani.lab.suites.SuiteRunSummary.passed_all: every scenario of the latest run passed.
    passed = getattr(result, "passed_all", None)
    if passed is None and isinstance(result, dict):
        passed = result.get("passed_all")
    if passed:
        return "scenario suite passed"
    if override_note and override_note.strip():
        return f"suite gate overridden: {override_note.strip()}"
    state = "has no suite run" if result is None else "failed its latest suite run"
    raise NotAllowed(f"Version {row.version} {state}. Run the scenario suite, or give an override note.")


def activate(uow: UnitOfWork, policy_id: int, *, expected_lock_version: int | None = None,
             require_passing_suite: bool = False, override_note: str | None = None,
             note: str | None = None) -> PolicyVersion:
    """Make a version active now; the current active version is retired. One transaction, audited.
    Activating a retired version is a roll back."""
    require_editor(uow)
    # Lock every version of the business, so two activations take turns instead of racing.
    uow.session.execute(
        select(Policy.id).where(Policy.business_id == uow.actor.business_id).order_by(Policy.id).with_for_update()
    ).all()
    row = _load(uow, policy_id)
    if row.state == "active":
        raise Conflict(f"Version {row.version} is already active.")
    if expected_lock_version is not None and row.lock_version != expected_lock_version:
        raise Conflict(f"Version {row.version} was changed by someone else since you opened it. Reload and review it first.")
    _validated_or_raise(_as_dict(row.rules))
    gate_note = _check_suite(uow, row, require_passing_suite, override_note)
    action = "policy.rolled_back" if (row.retired_at is not None or row.state == "retired") else "policy.activated"
    _switch_active(uow, row, action, "; ".join(n for n in (note, gate_note) if n) or None)
    _commit(uow, "Another version was activated at the same moment. Reload and try again.")
    return get_version(uow, row.id)


def rollback(uow: UnitOfWork, to_policy_id: int, *, note: str | None = None, **kwargs) -> PolicyVersion:
    """Roll back = activate an earlier (retired) version."""
    row = _load(uow, to_policy_id)
    if row.retired_at is None and row.state != "retired":
        raise NotAllowed(f"Version {row.version} has never been active; activate it instead of rolling back to it.")
    return activate(uow, to_policy_id, note=note, **kwargs)


def _move(uow: UnitOfWork, row: Policy, state: str, action: str, when: datetime, *, note: str | None = None,
          **fields) -> None:
    """One lifecycle step of a version: new state and fields, a new lock version, flushed, audited."""
    before = _snapshot(row)
    row.state = state
    for name, value in fields.items():
        setattr(row, name, value)
    row.lock_version += 1
    row.updated_at = when
    uow.session.flush()
    audit.record(uow, action, ENTITY, row.id, before, _snapshot(row), note=note)


def _switch_active(uow: UnitOfWork, row: Policy, action: str, note: str | None, at: datetime | None = None) -> None:
    current = uow.session.scalar(
        select(Policy).where(Policy.business_id == row.business_id, Policy.is_active.is_(True))
    )
    when = at or _now(uow)
    replaces = current is not None and current.id != row.id
    if replaces:
        # The old one must stop being active before the new one starts (unique index): _move flushes.
        _move(uow, current, "retired", "policy.retired", when, note=f"replaced by {row.version}",
              is_active=False, retired_at=when)
    _move(uow, row, "active", action, when, note=note or (f"replaces {current.version}" if replaces else None),
          is_active=True, effective_date=when)


def schedule(uow: UnitOfWork, policy_id: int, effective_at: datetime, *,
             expected_lock_version: int | None = None, require_passing_suite: bool = False,
             override_note: str | None = None) -> PolicyVersion:
    """Activate at a future time: the version becomes `scheduled` and takes effect when its time comes."""
    require_editor(uow)
    row = _load(uow, policy_id, lock=True)
    if row.state != "draft":
        raise NotAllowed(
            f"Version {row.version} is {row.state}; only drafts can be scheduled. To bring back a retired version "
            "later, make a new draft from it and schedule that."
        )
    if expected_lock_version is not None and row.lock_version != expected_lock_version:
        raise Conflict(f"Version {row.version} was changed by someone else since you opened it. Reload first.")
    now = _now(uow)
    if effective_at.tzinfo is not None:
        effective_at = effective_at.astimezone(tz=None).replace(tzinfo=None)
    if effective_at <= now:
        raise Invalid("The effective date must be in the future; to switch now, activate instead.",
                      {"effective_date": f"must be after {now:%Y-%m-%d %H:%M}"})
    _validated_or_raise(_as_dict(row.rules))
    gate_note = _check_suite(uow, row, require_passing_suite, override_note)
    _move(uow, row, "scheduled", "policy.scheduled", now, note=gate_note, effective_date=effective_at)
    _commit(uow, "The version changed while scheduling; nothing was written.")
    return get_version(uow, row.id)


def cancel_schedule(uow: UnitOfWork, policy_id: int) -> PolicyVersion:
    require_editor(uow)
    row = _load(uow, policy_id, lock=True)
    if row.state != "scheduled":
        raise Conflict(f"Version {row.version} is no longer scheduled (it is {row.state}).")
    _move(uow, row, "draft", "policy.schedule_cancelled", _now(uow), effective_date=None)
    _commit(uow, "The version changed while cancelling; nothing was written.")
    return get_version(uow, row.id)


def apply_due_schedules(uow: UnitOfWork, now: datetime | None = None) -> list[PolicyVersion]:
    """Activate every scheduled version of the acting business whose time has come, oldest first (so the
    latest due one ends up active). Any member may run it: the decision was an admin's when scheduling."""
    now = now or _now(uow)
    uow.session.execute(
        select(Policy.id).where(Policy.business_id == uow.actor.business_id).order_by(Policy.id).with_for_update()
    ).all()
    due = list(
        uow.session.scalars(
            select(Policy)
            .where(Policy.business_id == uow.actor.business_id, Policy.state == "scheduled", Policy.effective_date <= now)
            .order_by(Policy.effective_date, Policy.id)
        )
    )
    for row in due:
        scheduled_for = row.effective_date
        _switch_active(uow, row, "policy.schedule_applied", f"scheduled for {scheduled_for:%Y-%m-%d %H:%M}",
                       at=scheduled_for)
    if due:
        _commit(uow, "Another session applied the schedule at the same moment.")
    else:
        uow.rollback()
    return [get_version(uow, r.id) for r in due]


def history(uow: UnitOfWork, policy_id: int) -> list[dict]:
    """The audit timeline of one version, oldest first."""
    _load(uow, policy_id)
    return [
        {"when": a.created_at, "who": a.actor_email, "action": a.action, "note": a.note}
        for a in audit.history(uow, ENTITY, policy_id)
    ]


# ---------------------------------------------------------------- metrics

METRICS_DOC = """\
Computed from the returns that name the version in `return_requests.policy_version_used` (same business):

- **usage_statistics**: `returns` (how many), `first_used` / `last_used` (their created_at range),
  `by_status` and `by_recommendation` (counts), `automated` (the AI recommended auto-approve or auto-deny),
  `automation_rate` = automated ÷ returns, `refunded_value` = Σ order_value of approved (or completed) returns,
  `avg_processing_ms`.
- **compliance_metrics**: `decided` = approved + denied returns that had an automatic recommendation;
  `agreement_rate` = decided returns whose final status matches it (auto-approve → approved,
  auto-deny → denied) ÷ decided; `approved_checked` = approved returns with a known purchase age;
  `violations` = those approved outside the version's window for their category, or in a final-sale
  category; `compliance_rate` = 1 − violations ÷ approved_checked.
- **policy_impact_score** (0–100) = 100 × (automatically settled returns whose final decision agreed ÷ all
  returns under the version) × compliance_rate (1 when nothing could be checked): the share of the work the
  version took off reviewers' hands correctly, discounted by approvals that broke its own rules.
  Empty (no score) while no return has used the version.
"""

_METRICS_SQL = """
WITH r AS (
  SELECT p.id AS policy_id, rr.id, rr.created_at, rr.status, rr.order_value, rr.processing_time_ms,
         rr.days_since_purchase,
         CASE WHEN rr.id IS NULL THEN NULL
              WHEN rr.ai_recommendation ILIKE '%approv%' THEN 'approve'
              WHEN rr.ai_recommendation ILIKE '%den%' OR rr.ai_recommendation ILIKE '%reject%' THEN 'deny'
              WHEN rr.ai_recommendation IS NULL THEN 'none'
              ELSE 'review' END AS rec,
         coalesce(
           CASE WHEN p.rules -> 'category_overrides' -> rr.product_category ->> 'return_window_days' ~ '^[0-9]+$'
                THEN (p.rules -> 'category_overrides' -> rr.product_category ->> 'return_window_days')::int END,
           CASE WHEN p.rules ->> 'return_window_days' ~ '^[0-9]+$' THEN (p.rules ->> 'return_window_days')::int END
         ) AS window_days,
         coalesce(p.rules -> 'category_overrides' -> rr.product_category ->> 'final_sale', 'false') = 'true' AS final_sale
  FROM public.policies p
  LEFT JOIN public.return_requests rr ON rr.business_id = p.business_id AND rr.policy_version_used = p.version
  WHERE p.business_id = :business_id
)
SELECT policy_id,
       count(id) AS returns,
       min(created_at) AS first_used, max(created_at) AS last_used,
       count(id) FILTER (WHERE rec IN ('approve', 'deny')) AS automated,
       coalesce(sum(order_value) FILTER (WHERE status IN ('approved', 'completed')), 0) AS refunded_value,
       avg(processing_time_ms) AS avg_processing_ms,
       count(id) FILTER (WHERE status IN ('approved', 'completed', 'denied') AND rec IN ('approve', 'deny')) AS decided,
       count(id) FILTER (WHERE (status IN ('approved', 'completed') AND rec = 'approve') OR (status = 'denied' AND rec = 'deny')) AS agreed,
       count(id) FILTER (WHERE status IN ('approved', 'completed') AND days_since_purchase IS NOT NULL) AS approved_checked,
       count(id) FILTER (WHERE status IN ('approved', 'completed') AND days_since_purchase IS NOT NULL
                         AND (final_sale OR days_since_purchase > window_days)) AS violations
FROM r
GROUP BY policy_id
"""

_COUNTS_SQL = """
SELECT p.id AS policy_id, rr.{column} AS key, count(*) AS n
FROM public.policies p
JOIN public.return_requests rr ON rr.business_id = p.business_id AND rr.policy_version_used = p.version
WHERE p.business_id = :business_id
GROUP BY 1, 2
"""


class VersionMetrics(BaseModel):
    policy_impact_score: float | None
    usage_statistics: dict
    compliance_metrics: dict


def _rate(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def compute_metrics(uow: UnitOfWork) -> dict[int, VersionMetrics]:
    """Metrics of every version of the acting business, aggregated in SQL (formulas: ``METRICS_DOC``)."""
    params = {"business_id": uow.actor.business_id}
    rows = uow.session.execute(text(_METRICS_SQL), params).mappings().all()
    counts: dict[str, dict[int, dict[str, int]]] = {}
    for column in ("status", "ai_recommendation"):
        per: dict[int, dict[str, int]] = {}
        for r in uow.session.execute(text(_COUNTS_SQL.format(column=column)), params).mappings():
            per.setdefault(r["policy_id"], {})[r["key"] or "none"] = int(r["n"])
        counts[column] = per
    out: dict[int, VersionMetrics] = {}
    for r in rows:
        n = int(r["returns"])
        automation = _rate(int(r["automated"]), n)
        agreement = _rate(int(r["agreed"]), int(r["decided"]))
        compliance = _rate(int(r["approved_checked"]) - int(r["violations"]), int(r["approved_checked"]))
        score = None
        if n:
            score = round(100 * int(r["agreed"]) / n * (compliance if compliance is not None else 1.0), 1)
        out[r["policy_id"]] = VersionMetrics(
            policy_impact_score=score,
            usage_statistics={
                "returns": n,
                "first_used": r["first_used"].isoformat() if r["first_used"] else None,
                "last_used": r["last_used"].isoformat() if r["last_used"] else None,
                "by_status": counts["status"].get(r["policy_id"], {}),
                "by_recommendation": counts["ai_recommendation"].get(r["policy_id"], {}),
                "automated": int(r["automated"]),
                "automation_rate": automation,
                "refunded_value": round(float(r["refunded_value"] or 0), 2),
                "avg_processing_ms": round(float(r["avg_processing_ms"]), 1) if r["avg_processing_ms"] is not None else None,
            },
            compliance_metrics={
                "decided": int(r["decided"]),
                "agreed": int(r["agreed"]),
                "agreement_rate": agreement,
                "approved_checked": int(r["approved_checked"]),
                "violations": int(r["violations"]),
                "compliance_rate": compliance,
            },
        )
    return out


def refresh_metrics(uow: UnitOfWork) -> int:
    """Store the computed metrics in ``policies`` where they changed (one audit row per changed version,
    entity ``policy_metrics``, so they do not count as someone editing the version). Returns how many."""
    metrics = compute_metrics(uow)
    rows = {r.id: r for r in uow.session.scalars(select(Policy).where(Policy.business_id == uow.actor.business_id))}
    changed = 0
    for policy_id, m in metrics.items():
        row = rows[policy_id]
        stored = float(row.policy_impact_score) if row.policy_impact_score is not None else None
        if (stored == m.policy_impact_score and _as_dict(row.usage_statistics) == m.usage_statistics
                and _as_dict(row.compliance_metrics) == m.compliance_metrics):
            continue
        before = {"policy_impact_score": stored, "usage_statistics": row.usage_statistics,
                  "compliance_metrics": row.compliance_metrics}
        uow.session.execute(
            update(Policy).where(Policy.id == policy_id).values(
                policy_impact_score=m.policy_impact_score, usage_statistics=m.usage_statistics,
                compliance_metrics=m.compliance_metrics)
        )
        audit.record(uow, "policy.metrics_refreshed", "policy_metrics", policy_id, before, m.model_dump(mode="json"))
        changed += 1
    if changed:
        uow.commit()
    else:
        uow.rollback()
    return changed
