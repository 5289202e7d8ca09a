"""The security events inbox: filter by type, severity and state; resolve one or many with a note."""
from __future__ import annotations

from typing import Any, Iterable, Literal
from uuid import UUID

import pandas as pd
from pydantic import BaseModel
from sqlalchemy import text

from db.uow import UnitOfWork
from dokani.errors import Invalid
from dokani.risk.profiles import SEVERITIES, resolve_security_event

EventState = Literal["open", "resolved", "all"]
COLUMNS = ["id", "created_at", "event_type", "severity", "customer_email", "return_public_id", "resolved",
           "resolved_at", "resolved_by", "event_data"]


class ResolveOutcome(BaseModel):
    resolved: int
    problems: list[str]


def event_types(uow: UnitOfWork) -> list[str]:
    return list(uow.session.execute(text("SELECT DISTINCT event_type FROM security_events WHERE business_id = :b "
                                         "ORDER BY 1"), {"b": uow.actor.business_id}).scalars())


def security_events(uow: UnitOfWork, *, event_type: str | None = None, severity: str | None = None,
                    state: EventState = "open", email: str | None = None, limit: int = 100) -> pd.DataFrame:
    """Events of the current business, most severe and newest first, with the return's public id."""
    clauses, params = ["e.business_id = :b"], {"b": uow.actor.business_id, "limit": limit}
    if event_type:
        clauses.append("e.event_type = :t")
        params["t"] = event_type
    if severity:
        clauses.append("e.severity = :s")
        params["s"] = severity
    if state == "open":
        clauses.append("NOT coalesce(e.resolved, false)")
    elif state == "resolved":
        clauses.append("coalesce(e.resolved, false)")
    if email:
        clauses.append("e.customer_email = :email")
        params["email"] = email
    rows = uow.session.execute(
        text(
            f"""
            SELECT e.id, e.created_at, e.event_type, e.severity, e.customer_email, r.public_id AS return_public_id,
                   coalesce(e.resolved, false) AS resolved, e.resolved_at,
                   (SELECT coalesce(m.email, m.display_name) FROM business_members m
                     WHERE m.business_id = e.business_id AND m.user_id = e.resolved_by) AS resolved_by, e.event_data
            FROM security_events e LEFT JOIN return_requests r ON r.id = e.return_request_id
            WHERE {' AND '.join(clauses)}
            ORDER BY CASE e.severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 ELSE 3 END,
                     e.created_at DESC, e.id
            LIMIT :limit
            """
        ),
        params,
    ).mappings().all()
    return pd.DataFrame(rows, columns=COLUMNS)


def describe_event(data: Any) -> str:
    """An event's details in words: its detail sentence, then the other fields as 'name: value'."""
    if not isinstance(data, dict) or not data:
        return "No details recorded."
    parts = [str(data["detail"])] if data.get("detail") else []
    for key, value in data.items():
        if key == "detail" or value in (None, "", [], {}):
            continue
        if isinstance(value, dict):
            value = ", ".join(f"{k}: {v}" for k, v in value.items())
        elif isinstance(value, list):
            value = ", ".join(map(str, value))
        parts.append(f"{key.replace('_', ' ')}: {value}")
    return "; ".join(parts)


def resolve_events(uow: UnitOfWork, event_ids: Iterable[UUID], note: str | None) -> ResolveOutcome:
    """Resolve several events with one note in one transaction; events resolved meanwhile are reported, not redone."""
    from dokani.errors import Conflict, NotFound

    ids = list(dict.fromkeys(event_ids))
    if not ids:
        raise Invalid("Choose at least one event.", {"events": "nothing chosen"})
    cleaned = (note or "").strip() or None
    if cleaned and len(cleaned) > 2000:
        raise Invalid("The note is too long (2,000 characters at most).", {"note": "at most 2,000 characters"})
    done, problems = 0, []
    for event_id in ids:
        try:
            with uow.session.begin_nested():
                resolve_security_event(uow, event_id, cleaned)
            done += 1
        except (Conflict, NotFound) as err:
            problems.append(str(err))
    # a resolved event no longer counts against the customer
    from dokani.risk.scoring import refresh_customers

    emails = uow.session.execute(text("SELECT DISTINCT customer_email FROM security_events WHERE id = ANY(:ids) "
                                      "AND customer_email IS NOT NULL"), {"ids": ids}).scalars()
    refresh_customers(uow, list(emails))
    uow.commit()
    return ResolveOutcome(resolved=done, problems=problems)


__all__ = ["SEVERITIES", "security_events", "resolve_events", "describe_event", "event_types"]
