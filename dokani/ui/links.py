"""Links between pages that keep the demo sign-in when opened in a new tab."""
from __future__ import annotations

from uuid import UUID

from db.uow import Actor


def review_link(public_id: UUID | str, actor: Actor) -> str:
    """The review panel of one return (`/returns?return=...`), signed in as the same user."""
    return f"/returns?return={public_id}&as={actor.user_id}"
