"""The team of a business: invite, change a role, remove, reset a password. For owners and admins.

Postgres decides as well: row-level security lets only owners and admins write ``business_members``, only an
owner make or unmake an owner, and a trigger keeps the last owner. These checks say the same first, in words.
Every change is one transaction with its audit row. Invitation and reset links are shown to the person who
made them, to pass on (no mail server is assumed).
"""
from __future__ import annotations

import uuid
from datetime import datetime
from uuid import UUID

from pydantic import BaseModel
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from db.uow import UnitOfWork, sign_in_transaction
from dokani import audit
from dokani.accounts import password_links
from dokani.accounts.sessions import revoke_all_sessions
from dokani.accounts.sign_in import normalise_email
from dokani.errors import Conflict, Invalid, NotAllowed, NotFound
from dokani.models import BusinessMember

ROLES = ("owner", "admin", "reviewer", "tester", "viewer")
CAN_MANAGE = ("owner", "admin")
ENTITY = "business_member"
ROLE_HELP = {
    "owner": "everything, including making owners",
    "admin": "policies, personas, imports and members",
    "reviewer": "decides returns, acts on risk and security events",
    "tester": "the chat test lab only",
    "viewer": "reads everything, changes nothing",
}


class Member(BaseModel):
    user_id: UUID
    email: str | None
    display_name: str | None
    role: str
    since: datetime


class Invitation(BaseModel):
    email: str
    role: str
    link: str | None  # None when the person already has a password: they sign in with it


def _role_here(uow: UnitOfWork) -> str | None:
    return uow.session.execute(text("SELECT dokani.member_role(:b)"), {"b": uow.actor.business_id}).scalar()


def _require_manager(uow: UnitOfWork, target_role: str | None = None) -> str:
    role = _role_here(uow)
    if role not in CAN_MANAGE:
        raise NotAllowed(f"Your role here is {role or 'none'}: only owners and admins manage the team.")
    if target_role == "owner" and role != "owner":
        raise NotAllowed("Only an owner can make someone an owner or change an owner's membership.")
    return role


def members(uow: UnitOfWork) -> list[Member]:
    rows = uow.session.scalars(
        select(BusinessMember).where(BusinessMember.business_id == uow.actor.business_id)
        .order_by(BusinessMember.created_at)
    ).all()
    order = {r: i for i, r in enumerate(ROLES)}
    out = [Member(user_id=m.user_id, email=m.email, display_name=m.display_name, role=m.role, since=m.created_at)
           for m in rows]
    return sorted(out, key=lambda m: (order.get(m.role, 9), (m.email or "")))


def _member(uow: UnitOfWork, user_id: UUID) -> BusinessMember:
    m = uow.session.get(BusinessMember, (uow.actor.business_id, user_id))
    if m is None:
        raise NotFound("That person is not a member of this business (any more).")
    return m


def _database_says(err: DBAPIError) -> Exception:
    message = str(getattr(err.orig, "diag", None) and err.orig.diag.message_primary or err.orig)
    if "last owner" in message:
        return Conflict("The last owner of a business cannot be removed or demoted: make someone else owner first.")
    if "only an owner" in message:
        return NotAllowed("Only an owner can make someone an owner or change an owner's membership.")
    return NotAllowed("The database refused this change to the team; nothing was changed.")


def _flush(uow: UnitOfWork) -> None:
    try:
        uow.session.flush()
    except DBAPIError as err:
        uow.session.rollback()
        raise _database_says(err) from None


def invite(uow: UnitOfWork, email: str, role: str, display_name: str | None = None) -> Invitation:
    """Make `email` a member with `role`; a new account (or one without a password) gets a one-time link."""
    if role not in ROLES:
        raise Invalid(f"Pick one of the roles: {', '.join(ROLES)}.", {"role": "unknown role"})
    _require_manager(uow, role)
    who = normalise_email(email)
    name = (display_name or "").strip() or None
    problems = {}
    if "@" not in who or " " in who or len(who) > 320 or "\x00" in who:
        problems["email"] = "not an email address"
    if name and (len(name) > 120 or "\x00" in name):
        problems["display name"] = "at most 120 characters, no NUL"
    if problems:
        raise Invalid("The invitation was not sent: " + "; ".join(f"{k}: {v}" for k, v in problems.items()), problems)
    with sign_in_transaction() as conn:  # accounts live in auth.users, which people do not write
        row = conn.execute(text("SELECT id, encrypted_password IS NOT NULL FROM auth.users WHERE lower(email) = :e "
                                "ORDER BY created_at LIMIT 1"), {"e": who}).first()
        if row is None:
            user_id = uuid.uuid4()
            conn.execute(text("INSERT INTO auth.users (id, email, created_at) VALUES (:u, :e, now())"),
                         {"u": user_id, "e": who})
            has_password = False
        else:
            user_id, has_password = row
    if uow.session.get(BusinessMember, (uow.actor.business_id, user_id)) is not None:
        raise Conflict(f"{who} is already a member of this business.")
    uow.session.add(BusinessMember(business_id=uow.actor.business_id, user_id=user_id, role=role, email=who,
                                   display_name=name))
    audit.record(uow, "member.invited", ENTITY, user_id, after={"email": who, "role": role, "display_name": name})
    _flush(uow)
    uow.commit()
    link = None if has_password else password_links.create_link(user_id, "invite", uow.actor.user_id)
    return Invitation(email=who, role=role, link=link)


def change_role(uow: UnitOfWork, user_id: UUID, role: str) -> None:
    if role not in ROLES:
        raise Invalid(f"Pick one of the roles: {', '.join(ROLES)}.", {"role": "unknown role"})
    m = _member(uow, user_id)
    _require_manager(uow, "owner" if "owner" in (role, m.role) else role)
    if m.role == role:
        return
    before = m.role
    m.role = role
    audit.record(uow, "member.role_changed", ENTITY, user_id, before={"role": before}, after={"role": role})
    _flush(uow)
    uow.commit()


def remove(uow: UnitOfWork, user_id: UUID) -> None:
    m = _member(uow, user_id)
    _require_manager(uow, m.role)
    audit.record(uow, "member.removed", ENTITY, user_id, before={"email": m.email, "role": m.role})
    uow.session.delete(m)
    _flush(uow)
    uow.commit()
    with sign_in_transaction() as conn:
        still = conn.execute(text("SELECT EXISTS (SELECT 1 FROM public.business_members WHERE user_id = :u)"),
                             {"u": user_id}).scalar()
    if not still:
        revoke_all_sessions(user_id)  # a member of nothing is signed out everywhere


def reset_link(uow: UnitOfWork, user_id: UUID) -> str:
    """A one-time set-password link for a member (valid 24 hours); their sessions end when it is used."""
    m = _member(uow, user_id)
    _require_manager(uow, m.role)
    audit.record(uow, "member.password_reset_link", ENTITY, user_id, after={"email": m.email})
    uow.commit()
    return password_links.create_link(user_id, "reset", uow.actor.user_id)
