"""Version names: the next free name after a version's, and the checks a new or renamed draft's name passes."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from db.uow import UnitOfWork
from dokani import limits
from dokani.errors import Invalid
from dokani.models import Policy
from dokani.policies.versions import load_row

MAX_NAME = limits.NAME_MAX
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


def version_names(uow: UnitOfWork) -> list[str]:
    return list(uow.session.scalars(select(Policy.version).where(Policy.business_id == uow.actor.business_id)))


def check_name(uow: UnitOfWork, name: str, *, exclude_id: int | None = None) -> str:
    """The name, trimmed; Invalid when empty, too long, or taken in this business (case-insensitive)."""
    name = (name or "").strip() if isinstance(name, str) else ""
    if not name:
        raise Invalid("Give the version a name.", {"version": "must not be empty"})
    if len(name) > MAX_NAME:
        raise Invalid("The version name is too long.", {"version": f"at most {MAX_NAME} characters"})
    limits.check_text(name, "version", MAX_NAME)  # a NUL byte must not reach the uniqueness query
    clash = uow.session.scalar(
        select(Policy.id).where(
            Policy.business_id == uow.actor.business_id,
            func.lower(Policy.version) == name.lower(),
            Policy.id != (exclude_id or -1),
        )
    )
    if clash is not None:
        raise Invalid(f"A version named “{name}” already exists.", {"version": "names are unique per business"})
    if exclude_id is None or name != load_row(uow, exclude_id).version:  # a kept old name is not re-judged
        limits.check_name(name, "version", "version name")  # the one limit persona names share
    return name


def suggested_name_for(uow: UnitOfWork, from_policy_id: int) -> str:
    source = load_row(uow, from_policy_id)
    return suggest_next_name(version_names(uow), source.version)
