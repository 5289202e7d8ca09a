"""Return-policy lifecycle: draft, save, validate, schedule, activate, roll back.

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

from datetime import datetime

from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError

from db.uow import UnitOfWork
from dokani import audit, limits
from dokani.errors import Conflict, Invalid, NotAllowed
from dokani.models import Policy
from dokani.policies.rules import validate_rules
from dokani.policies.names import check_name, suggest_next_name, suggested_name_for, version_names
from dokani.policies.suite_gate import check_suite
from dokani.policies.versions import (ENTITY, PolicyVersion, as_dict, db_now, get_version, last_changes, load_row,
                                      require_editor)


def validate(raw: dict | str) -> tuple[dict | None, dict[str, str]]:
    """(rules as stored, problems). Delegates to the shared rules model; unknown keys are kept."""
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


def _snapshot(row: Policy) -> dict:
    return {
        "version": row.version,
        "state": row.state,
        "is_active": row.is_active,
        "effective_date": row.effective_date,
        "lock_version": row.lock_version,
        "rules": row.rules,
    }


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
        source = load_row(uow, from_policy_id)
        base_rules = as_dict(source.rules)
        default_name = suggested_name_for(uow, from_policy_id)
    else:
        source = None
        base_rules = rules if rules is not None else {}
        names = version_names(uow)
        default_name = suggest_next_name(names, names[0] if names else "v0")
    name = check_name(uow, name or default_name)
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
    row = load_row(uow, policy_id, lock=True)
    if row.state != "draft":
        raise NotAllowed(f"Version {row.version} is {row.state}: only drafts can be edited. Make a new draft from it.")
    if row.lock_version != expected_lock_version:
        who = last_changes(uow, [row.id]).get(str(row.id), (None, None, None))
        by = f" by {who[0]}" if who[0] else ""
        at = f" at {who[1]:%H:%M:%S}" if who[1] else ""
        raise Conflict(
            f"Version {row.version} was saved{by}{at} after you opened it, so your save was refused and nothing "
            "was overwritten. Your edits are still in the editor: copy them, reload the version, and apply them again."
        )
    new_name = check_name(uow, name, exclude_id=row.id) if name is not None else row.version
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
    row = load_row(uow, policy_id, lock=True)
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


def activate(uow: UnitOfWork, policy_id: int, *, expected_lock_version: int | None = None,
             require_passing_suite: bool = False, override_note: str | None = None,
             note: str | None = None) -> PolicyVersion:
    """Make a version active now; the current active version is retired. One transaction, audited.
    Activating a retired version is a roll back."""
    require_editor(uow)
    for field, value in (("note", note), ("override note", override_note)):
        if value:
            limits.check_text(value, field, 5000)  # typed text: NUL bytes refused before Postgres sees them
    # Lock every version of the business, so two activations take turns instead of racing.
    uow.session.execute(
        select(Policy.id).where(Policy.business_id == uow.actor.business_id).order_by(Policy.id).with_for_update()
    ).all()
    row = load_row(uow, policy_id)
    if row.state == "active":
        raise Conflict(f"Version {row.version} is already active.")
    if expected_lock_version is not None and row.lock_version != expected_lock_version:
        raise Conflict(f"Version {row.version} was changed by someone else since you opened it. Reload and review it first.")
    _validated_or_raise(as_dict(row.rules))
    gate_note = check_suite(uow, row, require_passing_suite, override_note)
    action = "policy.rolled_back" if row.state == "retired" else "policy.activated"
    _switch_active(uow, row, action, "; ".join(n for n in (note, gate_note) if n) or None)
    _commit(uow, "Another version was activated at the same moment. Reload and try again.")
    return get_version(uow, row.id)


def rollback(uow: UnitOfWork, to_policy_id: int, *, note: str | None = None, **kwargs) -> PolicyVersion:
    """Roll back = activate an earlier (retired) version."""
    row = load_row(uow, to_policy_id)
    if row.state != "retired":
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
    when = at or db_now(uow)
    replaces = current is not None and current.id != row.id
    if replaces:
        # The old one must stop being active before the new one starts (unique index): _move flushes.
        _move(uow, current, "retired", "policy.retired", when, note=f"replaced by {row.version}",
              is_active=False, retired_at=when)
    # effective_date is when a version first took effect: a roll back keeps it (the new period is recorded in
    # policy_activations by Postgres), and an active version carries no retired_at.
    first_time = {} if row.state == "retired" else {"effective_date": when}
    _move(uow, row, "active", action, when, note=note or (f"replaces {current.version}" if replaces else None),
          is_active=True, retired_at=None, **first_time)


def schedule(uow: UnitOfWork, policy_id: int, effective_at: datetime, *,
             expected_lock_version: int | None = None, require_passing_suite: bool = False,
             override_note: str | None = None) -> PolicyVersion:
    """Activate at a future time: the version becomes `scheduled` and takes effect when its time comes."""
    require_editor(uow)
    if override_note:
        limits.check_text(override_note, "override note", 5000)
    limits.check_date(effective_at, "effective date")  # year 9999 + an offset would overflow
    row = load_row(uow, policy_id, lock=True)
    if row.state != "draft":
        raise NotAllowed(
            f"Version {row.version} is {row.state}; only drafts can be scheduled. To bring back a retired version "
            "later, make a new draft from it and schedule that."
        )
    if expected_lock_version is not None and row.lock_version != expected_lock_version:
        raise Conflict(f"Version {row.version} was changed by someone else since you opened it. Reload first.")
    now = db_now(uow)
    if effective_at.tzinfo is not None:
        effective_at = limits.utc_naive(effective_at)  # naive UTC like every timestamp (not the process's zone)
    if effective_at <= now:
        raise Invalid("The effective date must be in the future; to switch now, activate instead.",
                      {"effective_date": f"must be after {now:%Y-%m-%d %H:%M}"})
    _validated_or_raise(as_dict(row.rules))
    gate_note = check_suite(uow, row, require_passing_suite, override_note)
    _move(uow, row, "scheduled", "policy.scheduled", now, note=gate_note, effective_date=effective_at)
    _commit(uow, "The version changed while scheduling; nothing was written.")
    return get_version(uow, row.id)


def cancel_schedule(uow: UnitOfWork, policy_id: int) -> PolicyVersion:
    require_editor(uow)
    row = load_row(uow, policy_id, lock=True)
    if row.state != "scheduled":
        raise Conflict(f"Version {row.version} is no longer scheduled (it is {row.state}).")
    _move(uow, row, "draft", "policy.schedule_cancelled", db_now(uow), effective_date=None)
    _commit(uow, "The version changed while cancelling; nothing was written.")
    return get_version(uow, row.id)


def apply_due_schedules(uow: UnitOfWork, now: datetime | None = None) -> list[PolicyVersion]:
    """Activate every scheduled version of the acting business whose time has come, oldest first (so the
    latest due one ends up active). Any member may run it: the decision was an admin's when scheduling."""
    now = now or db_now(uow)
    is_due = (Policy.business_id == uow.actor.business_id, Policy.state == "scheduled", Policy.effective_date <= now)
    # Every visit of the Policies page asks; almost always nothing is due, and then no row is locked (a lock on
    # every visit would make viewers wait for each other and for an admin's edit).
    if not uow.session.scalar(select(select(Policy.id).where(*is_due).exists())):
        uow.rollback()
        return []
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

