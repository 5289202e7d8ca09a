"""A queue filter in a URL's query string, and back: what the overview's drill-down links carry.

``/returns?status=approved,completed&from=2026-11-01&to=2026-11-30&ai=auto_deny&by=person`` is the queue showing
exactly the returns a figure of the overview counted. Only filters that differ from the queue's default are
written; reading validates like the filter form does (``Invalid`` with one message per field).
"""
from __future__ import annotations

from datetime import date
from typing import Any, Mapping

from dokani.errors import Invalid
from dokani.returns.filters import ReturnQueueFilter, build_filter

ANY_STATUS = "any"
LISTS = {"status": "statuses", "risk": "risk_bands", "category": "categories", "reason": "reasons",
         "sla": "sla_states", "ai": "recommendations", "rule": "rule_trace"}
KEYS = tuple(LISTS) + ("from", "to", "by", "sla_hours", "min_value", "max_value")


def has_filters(params: Mapping[str, Any]) -> bool:
    return any(k in params for k in KEYS)


def to_query(f: ReturnQueueFilter) -> dict[str, str]:
    """The filter's non-default parts as query parameters."""
    default = ReturnQueueFilter()
    out: dict[str, str] = {}
    for key, field in LISTS.items():
        value = getattr(f, field)
        if value != getattr(default, field):
            out[key] = ",".join(value) if value else ANY_STATUS
    if f.created_from:
        out["from"] = f.created_from.isoformat()
    if f.created_to:
        out["to"] = f.created_to.isoformat()
    if f.decided_by_person:
        out["by"] = "person"
    if f.sla_hours != default.sla_hours:
        out["sla_hours"] = f"{f.sla_hours:g}"
    for field in ("min_value", "max_value"):
        if getattr(f, field) is not None:
            out[field] = f"{getattr(f, field):g}"
    return out


def queue_query(**fields: Any) -> dict[str, str]:
    """Query parameters of the queue filtered by `fields` (``ReturnQueueFilter`` field names)."""
    return to_query(ReturnQueueFilter(**fields))


def _date(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Invalid(f"The link's {name} date {value[:20]!r} is not a date (YYYY-MM-DD).", {name: "YYYY-MM-DD"}) from None


def _number(value: str, name: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise Invalid(f"The link's {name} {value[:20]!r} is not a number.", {name: "a number"}) from None


def from_query(params: Mapping[str, Any]) -> ReturnQueueFilter:
    """The filter a drill-down link asks for; a hand-edited, wrong link raises ``Invalid``."""
    values: dict[str, Any] = {}

    def get(key: str) -> str | None:
        v = params.get(key)
        if isinstance(v, (list, tuple)):
            v = v[-1] if v else None
        return None if v is None else str(v).strip()

    for key, field in LISTS.items():
        raw = get(key)
        if raw is not None:
            values[field] = [] if raw in ("", ANY_STATUS) else [p.strip() for p in raw.split(",") if p.strip()]
    if (raw := get("from")) is not None:
        values["created_from"] = _date(raw, "from")
    if (raw := get("to")) is not None:
        values["created_to"] = _date(raw, "to")
    if (raw := get("by")) is not None:
        if raw != "person":
            raise Invalid("The link's 'by' can only be 'person'.", {"by": "person"})
        values["decided_by_person"] = True
    for key in ("sla_hours", "min_value", "max_value"):
        if (raw := get(key)) is not None:
            values[key] = _number(raw, key)
    return build_filter(**values)
