"""Who can sign in, and which businesses a signed-in user may work for."""
from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel
from sqlalchemy import select, text

from db.engine import app_engine
from db.uow import Actor, unit_of_work
from dokani.models import BusinessMember, Profile


class Person(BaseModel):
    user_id: UUID
    email: str | None
    display_name: str | None
    businesses: int


class Membership(BaseModel):
    business_id: UUID
    business_name: str
    role: str


def sign_in_directory() -> list[Person]:
    """Everyone who belongs to a business (the demo sign-in picker). Runs as ``anon``, not as an owner."""
    with app_engine().connect() as conn:
        conn.execute(text("SET ROLE anon"))
        rows = conn.execute(text("SELECT * FROM dokani.sign_in_directory()")).mappings().all()
        conn.rollback()
    return [Person(**r) for r in rows]


def memberships(user_id: UUID, email: str | None = None) -> list[Membership]:
    """The businesses this user may act for, through row-level security (no business selected yet)."""
    with unit_of_work(Actor(user_id=user_id, business_id=None, email=email)) as uow:
        rows = uow.session.execute(
            select(BusinessMember.business_id, Profile.business_name, BusinessMember.role)
            .join(Profile, Profile.business_id == BusinessMember.business_id)
            .where(BusinessMember.user_id == user_id)
            .order_by(Profile.business_name)
        ).all()
    return [Membership(business_id=b, business_name=n, role=r) for b, n, r in rows]


def actor_for(user_id: UUID, membership: Membership, email: str | None = None) -> Actor:
    return Actor(user_id=user_id, business_id=membership.business_id, role=membership.role, email=email)
