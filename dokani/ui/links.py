"""Links between pages. They carry what to show (a return's public id), never who you are: the session
cookie signs a new tab in as the same person."""
from __future__ import annotations

from uuid import UUID


def review_link(public_id: UUID | str) -> str:
    """The review panel of one return (`/returns?return=...`)."""
    return f"/returns?return={public_id}"
