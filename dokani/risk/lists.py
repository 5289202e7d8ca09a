"""Trusted, watch and block lists, and manual risk-band overrides; every change audited with actor and reason.

- Trusted: the triage engine lets a trusted customer's return through without manual review when the policy itself
  has no objection (no violation, no watched fraud flag, value under the escalation threshold).
- Watchlist: always reviewed by a person, never approved automatically.
- Blocklist (an email or an order id): refused, with the entry's note as the stated reason.
- A band override beats the computed band until it expires (or is cleared); then the computed band returns.

Entries and overrides are never deleted: removing one stamps ``removed_at`` / ``removed_by``, so the history stays.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Literal
from uuid import UUID

from pydantic import BaseModel
from sqlalchemy import text

from db.uow import UnitOfWork
from dokani import audit
from dokani.errors import Conflict, Invalid, NotAllowed, NotFound
from dokani.risk.bands import RISK_BANDS

ListKind = Literal["trusted", "watchlist", "blocklist"]
MatchKind = Literal["email", "order"]
LIST_KINDS: tuple[str, ...] = ("trusted", "watchlist", "blocklist")
LIST_LABELS = {"trusted": "Trusted", "watchlist": "Watchlist", "blocklist": "Blocklist"}
CAN_EDIT = ("owner", "admin", "reviewer")
LIVE = "removed_at IS NULL AND (expires_at IS NULL OR expires_at > timezone('utc', now()))"


class ListEntry(BaseModel):
    id: int
    list_kind: str
    match_kind: str
    value: str
    note: str | None
    expires_at: datetime | None
    created_at: datetime
    created_by: str | None = None
    removed_at: datetime | None = None
    removed_by: str | None = None
    removed_reason: str | None = None

    @property
    def live(self) -> bool:
        now = datetime.now(timezone.utc).replace(tzinfo=None)
        return self.removed_at is None and (self.expires_at is None or self.expires_at > now)


class BandOverride(BaseModel):
    id: int
    customer_email: str
    band: str
    reason: str
    expires_at: datetime | None
    created_at: datetime
    created_by: str | None = None
    removed_at: datetime | None = None
    removed_by: str | None = None
    removed_reason: str | None = None

    @property
    def live(self) -> bool:
        now = datetime.now(timezone.utc).replace(tzinfo=None)
        return self.removed_at is None and (self.expires_at is None or self.expires_at > now)


def _editor(uow: UnitOfWork) -> UUID:
    business_id = uow.actor.business_id
    if business_id is None:
        raise NotAllowed("Choose a business first.")
    role = uow.session.execute(text("SELECT dokani.member_role(:b)"), {"b": business_id}).scalar()
    if role not in CAN_EDIT:
        raise NotAllowed(f"Your role here is {role or 'none'}: only owners, admins and reviewers change risk lists "
                         "and overrides.")
    return business_id


def _clean(value: str | None, what: str, *, required: bool, limit: int = 2000) -> str | None:
    cleaned = (value or "").strip() or None
    if required and not cleaned:
        raise Invalid(f"Say why: the {what} is needed.", {what: "required"})
    if cleaned and len(cleaned) > limit:
        raise Invalid(f"The {what} is too long ({limit:,} characters at most).", {what: f"at most {limit:,} characters"})
    return cleaned


def _future(expires_at: datetime | None) -> datetime | None:
    if expires_at is None:
        return None
    naive = expires_at.astimezone(timezone.utc).replace(tzinfo=None) if expires_at.tzinfo else expires_at
    if naive <= datetime.now(timezone.utc).replace(tzinfo=None):
        raise Invalid("The expiry must be in the future.", {"expires": "in the past"})
    return naive


def normalise_value(match_kind: str, value: str) -> str:
    v = (value or "").strip()
    return v.lower() if match_kind == "email" else v


def add_to_list(uow: UnitOfWork, list_kind: str, match_kind: str, value: str, *, reason: str,
                note: str | None = None, expires_at: datetime | None = None) -> ListEntry:
    """Put an email or an order id on a list (one live entry per list and value); commits with its audit row."""
    business_id = _editor(uow)
    if list_kind not in LIST_KINDS:
        raise Invalid(f"Unknown list {list_kind!r}.", {"list": "trusted, watchlist or blocklist"})
    if match_kind not in ("email", "order") or (list_kind != "blocklist" and match_kind != "email"):
        raise Invalid("Trusted and watchlist entries are by email; the blocklist takes an email or an order id.",
                      {"match": "email (or order, on the blocklist)"})
    value = normalise_value(match_kind, value)
    if not value or len(value) > 320 or (match_kind == "email" and "@" not in value):
        raise Invalid(f"{'An email address' if match_kind == 'email' else 'An order id'} is needed.",
                      {"value": "an email address" if match_kind == "email" else "an order id"})
    reason = _clean(reason, "reason", required=True)
    note = _clean(note, "note", required=False)
    expires = _future(expires_at)
    s = uow.session
    # an expired entry is history: close it so a new one can be live
    s.execute(text("UPDATE risk_list_entries SET removed_at = expires_at, removed_reason = 'expired' "
                   "WHERE business_id = :b AND list_kind = :l AND match_kind = :m AND value = :v AND removed_at IS NULL "
                   "AND expires_at <= timezone('utc', now())"), {"b": business_id, "l": list_kind, "m": match_kind, "v": value})
    if s.execute(text("SELECT 1 FROM risk_list_entries WHERE business_id = :b AND list_kind = :l AND match_kind = :m "
                      "AND value = :v AND removed_at IS NULL"),
                 {"b": business_id, "l": list_kind, "m": match_kind, "v": value}).first():
        raise Conflict(f"{value} is already on the {LIST_LABELS[list_kind].lower()}.")
    row = s.execute(
        text("INSERT INTO risk_list_entries (business_id, list_kind, match_kind, value, note, expires_at, created_by) "
             "VALUES (:b, :l, :m, :v, :note, :exp, :uid) RETURNING *"),
        {"b": business_id, "l": list_kind, "m": match_kind, "v": value, "note": note, "exp": expires,
         "uid": uow.actor.user_id},
    ).mappings().one()
    entry = ListEntry(**{k: row[k] for k in ListEntry.model_fields if k in row and k not in ("created_by", "removed_by")})
    audit.record(uow, "risk.list_added", "risk_list_entries", entry.id, None, entry.model_dump(), reason)
    uow.commit()
    return entry


def remove_from_list(uow: UnitOfWork, entry_id: int, *, reason: str) -> None:
    business_id = _editor(uow)
    reason = _clean(reason, "reason", required=True)
    row = uow.session.execute(
        text("UPDATE risk_list_entries SET removed_at = timezone('utc', now()), removed_by = :uid, removed_reason = :r "
             "WHERE id = :id AND business_id = :b AND removed_at IS NULL RETURNING list_kind, match_kind, value"),
        {"id": entry_id, "b": business_id, "uid": uow.actor.user_id, "r": reason},
    ).mappings().first()
    if row is None:
        raise NotFound("No such live list entry in this business (removed already?).")
    audit.record(uow, "risk.list_removed", "risk_list_entries", entry_id, dict(row), None, reason)
    uow.commit()


def set_band_override(uow: UnitOfWork, email: str, band: str, *, reason: str,
                      expires_at: datetime | None = None) -> BandOverride:
    """A manual band for one customer (replacing a live one); commits with its audit row."""
    business_id = _editor(uow)
    if band not in RISK_BANDS:
        raise Invalid(f"Unknown band {band!r}.", {"band": ", ".join(RISK_BANDS)})
    email = normalise_value("email", email)
    reason = _clean(reason, "reason", required=True)
    expires = _future(expires_at)
    before = uow.session.execute(
        text("UPDATE risk_band_overrides SET removed_at = timezone('utc', now()), removed_by = :uid, "
             "removed_reason = 'replaced' WHERE business_id = :b AND lower(customer_email) = :e AND removed_at IS NULL "
             "RETURNING band, reason, expires_at"),
        {"b": business_id, "e": email, "uid": uow.actor.user_id},
    ).mappings().first()
    row = uow.session.execute(
        text("INSERT INTO risk_band_overrides (business_id, customer_email, band, reason, expires_at, created_by) "
             "VALUES (:b, :e, :band, :r, :exp, :uid) RETURNING *"),
        {"b": business_id, "e": email, "band": band, "r": reason, "exp": expires, "uid": uow.actor.user_id},
    ).mappings().one()
    override = BandOverride(**{k: row[k] for k in BandOverride.model_fields if k not in ("created_by", "removed_by")})
    audit.record(uow, "risk.band_overridden", "risk_band_overrides", override.id,
                 dict(before) if before else None, override.model_dump(), reason)
    uow.commit()
    return override


def clear_band_override(uow: UnitOfWork, email: str, *, reason: str) -> None:
    business_id = _editor(uow)
    reason = _clean(reason, "reason", required=True)
    row = uow.session.execute(
        text("UPDATE risk_band_overrides SET removed_at = timezone('utc', now()), removed_by = :uid, removed_reason = :r "
             "WHERE business_id = :b AND lower(customer_email) = :e AND removed_at IS NULL RETURNING id, band"),
        {"b": business_id, "e": normalise_value("email", email), "uid": uow.actor.user_id, "r": reason},
    ).mappings().first()
    if row is None:
        raise NotFound("This customer has no band override to clear.")
    audit.record(uow, "risk.band_override_cleared", "risk_band_overrides", row["id"], {"band": row["band"]}, None, reason)
    uow.commit()


def _who(column: str) -> str:
    return (f"(SELECT coalesce(m.email, m.display_name) FROM business_members m "
            f"WHERE m.business_id = t.business_id AND m.user_id = t.{column})")


def entries(uow: UnitOfWork, *, email: str | None = None, list_kind: str | None = None,
            include_history: bool = False) -> list[ListEntry]:
    """List entries of the current business (live only unless `include_history`), newest first."""
    clauses, params = ["t.business_id = :b"], {"b": uow.actor.business_id}
    if not include_history:
        clauses.append(LIVE.replace("removed_at", "t.removed_at").replace("expires_at", "t.expires_at"))
    if email:
        clauses.append("t.match_kind = 'email' AND t.value = :e")
        params["e"] = normalise_value("email", email)
    if list_kind:
        clauses.append("t.list_kind = :l")
        params["l"] = list_kind
    rows = uow.session.execute(
        text(f"SELECT t.*, {_who('created_by')} AS created_by_name, {_who('removed_by')} AS removed_by_name "
             f"FROM risk_list_entries t WHERE {' AND '.join(clauses)} ORDER BY t.created_at DESC, t.id DESC LIMIT 500"),
        params,
    ).mappings().all()
    return [ListEntry(**{**{k: r[k] for k in ListEntry.model_fields if k not in ("created_by", "removed_by")},
                         "created_by": r["created_by_name"], "removed_by": r["removed_by_name"]}) for r in rows]


def overrides(uow: UnitOfWork, email: str) -> list[BandOverride]:
    """Every band override of one customer, newest first (the live one, if any, first)."""
    rows = uow.session.execute(
        text(f"SELECT t.*, {_who('created_by')} AS created_by_name, {_who('removed_by')} AS removed_by_name "
             "FROM risk_band_overrides t WHERE t.business_id = :b AND lower(t.customer_email) = :e "
             "ORDER BY t.created_at DESC, t.id DESC"),
        {"b": uow.actor.business_id, "e": normalise_value("email", email)},
    ).mappings().all()
    return [BandOverride(**{**{k: r[k] for k in BandOverride.model_fields if k not in ("created_by", "removed_by")},
                            "created_by": r["created_by_name"], "removed_by": r["removed_by_name"]}) for r in rows]

