"""Which businesses a signed-in person may work for, and in which role (read under row-level security)."""
from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel
from sqlalchemy import select

from db.uow import Actor, unit_of_work
from dokani.models import BusinessMember, Profile


class Membership(BaseModel):
    business_id: UUID
    business_name: str
    role: str
    display_name: str | None = None


def memberships(user_id: UUID, email: str | None = None) -> list[Membership]:
    """The businesses this user may act for, through row-level security (no business selected yet)."""
    with unit_of_work(Actor(user_id=user_id, business_id=None, email=email)) as uow:
        rows = uow.session.execute(
            select(BusinessMember.business_id, Profile.business_name, BusinessMember.role, BusinessMember.display_name)
            .join(Profile, Profile.business_id == BusinessMember.business_id)
            .where(BusinessMember.user_id == user_id)
            .order_by(Profile.business_name)
        ).all()
    return [Membership(business_id=b, business_name=n, role=r, display_name=d) for b, n, r, d in rows]


def actor_for(user_id: UUID, membership: Membership, email: str | None = None) -> Actor:
    return Actor(user_id=user_id, business_id=membership.business_id, role=membership.role, email=email)
