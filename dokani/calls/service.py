"""Call imports as a signed-in member does them (CLI, the Calls page's upload): owners and admins only."""
from __future__ import annotations

from typing import Callable

from db.uow import UnitOfWork
from dokani.calls.importer import ImportSummary, import_events, read_events
from dokani.errors import NotAllowed

CAN_IMPORT = ("owner", "admin")


def import_call_files(uow: UnitOfWork, files: list[tuple[str, bytes]], source: str = "upload",
                      progress: Callable[[int, int], None] | None = None) -> ImportSummary:
    """Every file checked (JSON, payload, persona of this business) before the first write; the caller commits."""
    if uow.actor.role not in CAN_IMPORT:
        raise NotAllowed("Only owners and admins can import calls.")
    events = read_events(files)
    return import_events(uow.session, uow.actor.business_id, events, source, progress)
