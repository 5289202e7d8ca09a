"""Each person's own settings, kept in ``user_preferences`` and applied from their next page run.

Landing page (where signing in takes you), rows per page in the queue, the review SLA the queue and the
overview count "overdue" against, and the time zone every displayed time is shown in. Row-level security
lets a person read and write only their own row; they are personal, not the business's, so they are not in
the business's audit log (``updated_at`` says when they last changed). A stored value that is no longer valid (a page that was
renamed, a zone that was retired) falls back to its default instead of breaking the console.
"""
from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import select

from db.uow import UnitOfWork
from dokani.errors import Invalid
from dokani.models import UserPreferences

# Page url paths a person may land on, with the names the navigation shows.
LANDING_PAGES = {
    "overview": "Overview", "returns": "Returns", "policies": "Policies", "chat": "Chat test lab",
    "calls": "Calls", "risk": "Risk",
}
ROWS_PER_PAGE = (25, 50, 100, 200)


@lru_cache(maxsize=1)
def time_zones() -> tuple[str, ...]:
    """IANA zone names, UTC first, the rest sorted."""
    return ("UTC",) + tuple(sorted(z for z in available_timezones() if z != "UTC" and "/" in z))


class Preferences(BaseModel):
    model_config = ConfigDict(extra="ignore")

    landing_page: Literal["overview", "returns", "policies", "chat", "calls", "risk"] = "overview"
    rows_per_page: Literal[25, 50, 100, 200] = 50
    review_sla_hours: int = Field(48, ge=1, le=24 * 60)
    time_zone: str = "UTC"

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not a time zone this server knows") from None
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)


def _tolerant(stored: object) -> Preferences:
    """Stored JSON to preferences, keeping each valid field and defaulting each invalid one."""
    if not isinstance(stored, dict):
        return Preferences()
    kept: dict = {}
    for name in Preferences.model_fields:
        if name in stored:
            try:
                Preferences(**{name: stored[name]})
            except ValidationError:
                continue
            kept[name] = stored[name]
    return Preferences(**kept)


def _row(uow: UnitOfWork) -> UserPreferences | None:
    return uow.session.scalar(select(UserPreferences).where(UserPreferences.user_id == uow.actor.user_id))


def load_preferences(uow: UnitOfWork) -> Preferences:
    """The signed-in person's settings; the defaults when they have never saved any."""
    row = _row(uow)
    return _tolerant(row.preferences) if row is not None else Preferences()


def save_preferences(uow: UnitOfWork, changes: dict) -> Preferences:
    """Validate and store the person's settings with an audit row; refuses invalid values, changing nothing."""
    try:
        wanted = Preferences(**{**load_preferences(uow).model_dump(), **changes})
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])).replace('_', ' ')}: {e['msg']}" for e in error.errors())
        raise Invalid(f"These settings cannot be saved: {problems}.") from None
    row = _row(uow)
    if row is None:
        row = UserPreferences(user_id=uow.actor.user_id, preferences=wanted.model_dump())
        uow.session.add(row)
    else:
        row.preferences = {**(row.preferences if isinstance(row.preferences, dict) else {}), **wanted.model_dump()}
        row.updated_at = datetime.utcnow()
    uow.commit()
    return wanted
