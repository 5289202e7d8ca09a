"""The return queue and review: filters, keyset pages, KPIs, CSV, the review panel's data, decisions.

Every figure comes from SQL over ``return_requests`` (tenant-scoped by row-level security and by the
acting business). Decisions are optimistic: the caller hands back the version it saw (Postgres' ``xmin``
of the row), and a decision on a row that changed since is refused with who changed it and when.
"""
from __future__ import annotations

import base64
import csv
import io
import json
from datetime import date, datetime, timedelta
from typing import Any, Iterable, Literal
from urllib.parse import urlsplit
from uuid import UUID

from pydantic import BaseModel, Field, ValidationError, model_validator
from sqlalchemy import text
from sqlalchemy.orm import Session

from db.uow import UnitOfWork
from dokani import audit
from dokani.errors import Conflict, Invalid, NotAllowed, NotFound, field_problems
from dokani.returns.status import (
    ACTION_TARGET,
    ACTIONS_NEEDING_REASON,
    APPROVED,
    COMPLETED,
    DECIDING_ROLES,
    DENIED,
    ESCALATED,
    NEEDS_DECISION,
    STATUSES,
    Action,
    actions_for,
    label,
    may_human_move,
)
from dokani.risk.profiles import RISK_BANDS, band_of
from dokani.triage.engine import REASON_KEYWORDS, reason_pattern

ENTITY = "return_requests"  # audit_log.entity of a return request; entity_id is its id

RiskBand = Literal["low", "medium", "high"]
SlaState = Literal["overdue", "due_soon", "on_time"]
SortKey = Literal["age", "risk", "value"]

DUE_SOON_SHARE = 0.75  # a waiting return is "due soon" after 75 % of the SLA
REASON_CODES: tuple[str, ...] = tuple(code for code, _ in REASON_KEYWORDS) + ("other",)
MAX_PAGE_SIZE = 500


# --------------------------------------------------------------------------------------------------- filters
class ReturnQueueFilter(BaseModel):
    """What the reviewer asked to see. Every field is applied in SQL."""

    statuses: list[str] = Field(default_factory=lambda: list(NEEDS_DECISION))
    risk_bands: list[RiskBand] = Field(default_factory=list)
    categories: list[str] = Field(default_factory=list)
    reasons: list[str] = Field(default_factory=list, description="reason codes, as the triage engine reads them")
    min_value: float | None = Field(None, ge=0)
    max_value: float | None = Field(None, ge=0)
    created_from: date | None = None
    created_to: date | None = Field(None, description="inclusive")
    sla_states: list[SlaState] = Field(default_factory=list)
    search: str | None = Field(None, max_length=200, description="substring of order id, customer email or public id")
    sort: SortKey = "age"
    descending: bool | None = Field(None, description="default: oldest first for age, highest first for risk and value")
    sla_hours: float = Field(48.0, gt=0, le=24 * 365)

    @model_validator(mode="after")
    def _ranges(self) -> "ReturnQueueFilter":
        if self.min_value is not None and self.max_value is not None and self.min_value > self.max_value:
            raise ValueError("the lowest order value is above the highest")
        if self.created_from and self.created_to and self.created_from > self.created_to:
            raise ValueError("the start date is after the end date")
        return self

    @property
    def is_descending(self) -> bool:
        return self.descending if self.descending is not None else self.sort != "age"


def build_filter(**values: Any) -> ReturnQueueFilter:
    """A filter from form values; wrong input becomes `Invalid` with one message per field."""
    try:
        return ReturnQueueFilter(**values)
    except ValidationError as err:
        problems = field_problems(err, "filter")
        raise Invalid("Some filters are not valid: " + "; ".join(problems.values()), problems) from None


def _quote(literal: str) -> str:
    return "'" + literal.replace("'", "''") + "'"


def reason_code_sql(column: str = "r.reason_for_return") -> str:
    """The engine's reason classification (``dokani.triage.engine.classify_reason``) as one SQL expression."""
    lowered = f"lower(coalesce({column}, ''))"
    whens = []
    for code, phrases in REASON_KEYWORDS:
        test = f"{lowered} ~ {_quote(reason_pattern(phrases))}"
        whens.append(f"WHEN {test} THEN {_quote(code)}")
    return "CASE " + " ".join(whens) + " ELSE 'other' END"


_REASON_SQL = reason_code_sql()
_AGE_HOURS = "extract(epoch FROM (timezone('utc', now()) - r.created_at)) / 3600.0"
_SORT_SQL = {
    "age": "coalesce(r.created_at, TIMESTAMP '1970-01-01')",
    "risk": "coalesce(r.risk_score, 0)",
    "value": "coalesce(r.order_value, 0)",
}
_SORT_CAST = {"age": "timestamp", "risk": "numeric", "value": "numeric"}

def _like_pattern(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _where(session: Session, business_id: UUID, f: ReturnQueueFilter) -> tuple[list[str], dict[str, Any]]:
    clauses = ["r.business_id = :business_id"]
    params: dict[str, Any] = {"business_id": business_id, "sla_hours": f.sla_hours, "due_soon": f.sla_hours * DUE_SOON_SHARE}
    clauses.append("NOT r.is_test")  # chat-lab test returns never reach the live queue (revision 0005)
    if f.statuses:
        clauses.append("r.status = ANY(:statuses)")
        params["statuses"] = list(f.statuses)
    if f.risk_bands:
        parts = []
        for band in f.risk_bands:
            low, high = RISK_BANDS[band]
            parts.append(f"(coalesce(r.risk_score, 0) >= {low}" + (f" AND coalesce(r.risk_score, 0) < {high})" if high else ")"))
        clauses.append("(" + " OR ".join(parts) + ")")
    if f.categories:
        clauses.append("r.product_category = ANY(:categories)")
        params["categories"] = list(f.categories)
    if f.reasons:
        clauses.append(f"({_REASON_SQL}) = ANY(:reasons)")
        params["reasons"] = list(f.reasons)
    if f.min_value is not None:
        clauses.append("coalesce(r.order_value, 0) >= :min_value")
        params["min_value"] = f.min_value
    if f.max_value is not None:
        clauses.append("coalesce(r.order_value, 0) <= :max_value")
        params["max_value"] = f.max_value
    if f.created_from is not None:
        clauses.append("r.created_at >= :created_from")
        params["created_from"] = datetime.combine(f.created_from, datetime.min.time())
    if f.created_to is not None:
        clauses.append("r.created_at < :created_to")
        params["created_to"] = datetime.combine(f.created_to + timedelta(days=1), datetime.min.time())
    if f.sla_states:
        clauses.append(f"({_SLA_SQL}) = ANY(:sla_states)")
        params["sla_states"] = list(f.sla_states)
    term = (f.search or "").strip()
    if term:
        params["pattern"] = _like_pattern(term.lower())
        clauses.append(
            "(r.order_id ILIKE :pattern OR lower(r.customer_email) LIKE :pattern "
            "OR CAST(r.public_id AS text) LIKE :pattern)"
        )
    return clauses, params


_SLA_SQL = (
    f"CASE WHEN r.status = ANY(ARRAY['pending_triage', 'pending_review', 'escalated']) THEN "
    f"CASE WHEN {_AGE_HOURS} >= :sla_hours THEN 'overdue' WHEN {_AGE_HOURS} >= :due_soon THEN 'due_soon' "
    f"ELSE 'on_time' END ELSE 'closed' END"
)

_ROW_COLUMNS = f"""
    r.id, r.public_id, r.created_at, r.status, r.order_id, r.customer_email, r.reason_for_return,
    r.product_category, coalesce(r.order_value, 0) AS order_value, coalesce(r.risk_score, 0) AS risk_score,
    r.ai_recommendation, r.ai_confidence, r.policy_version_used, r.admin_notes, r.admin_decision_at,
    ({_REASON_SQL}) AS reason_code, {_AGE_HOURS} AS age_hours, ({_SLA_SQL}) AS sla_state,
    CAST(r.xmin AS text) AS version
"""


# --------------------------------------------------------------------------------------------------- queue
class QueueRow(BaseModel):
    id: int
    public_id: UUID
    created_at: datetime | None
    status: str | None
    order_id: str
    customer_email: str
    reason_for_return: str | None
    reason_code: str
    product_category: str | None
    order_value: float
    risk_score: float
    risk_band: RiskBand
    ai_recommendation: str | None
    ai_confidence: float | None
    policy_version_used: str | None
    age_hours: float | None
    sla_state: str
    version: str


class QueuePage(BaseModel):
    rows: list[QueueRow]
    total: int = Field(description="returns matching the filter, on all pages")
    page_size: int
    next_cursor: str | None = None
    cursor: str | None = None

    def to_frame(self):
        import pandas as pd

        columns = ["public_id", "created_at", "age_hours", "sla_state", "status", "order_id", "customer_email",
                   "reason_code", "reason_for_return", "product_category", "order_value", "risk_score", "risk_band",
                   "ai_recommendation", "ai_confidence", "policy_version_used"]
        frame = pd.DataFrame([r.model_dump() for r in self.rows], columns=columns + ["id", "version"])
        frame["public_id"] = frame["public_id"].astype(str)
        return frame[columns]


def risk_band(score: float) -> RiskBand:
    return band_of(score)  # type: ignore[return-value]


def _row(m: Any) -> QueueRow:
    risk = float(m["risk_score"] or 0)
    return QueueRow(
        id=m["id"], public_id=m["public_id"], created_at=m["created_at"], status=m["status"], order_id=m["order_id"],
        customer_email=m["customer_email"], reason_for_return=m["reason_for_return"], reason_code=m["reason_code"],
        product_category=m["product_category"], order_value=float(m["order_value"] or 0), risk_score=risk,
        risk_band=risk_band(risk), ai_recommendation=m["ai_recommendation"],
        ai_confidence=float(m["ai_confidence"]) if m["ai_confidence"] is not None else None,
        policy_version_used=m["policy_version_used"],
        age_hours=round(float(m["age_hours"]), 2) if m["age_hours"] is not None else None,
        sla_state=m["sla_state"], version=m["version"],
    )


def _encode_cursor(sort_value: str, row_id: int) -> str:
    return base64.urlsafe_b64encode(json.dumps([sort_value, row_id]).encode()).decode()


def _decode_cursor(cursor: str) -> tuple[str, int]:
    try:
        value, row_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return str(value), int(row_id)
    except Exception:  # noqa: BLE001 - a hand-edited cursor is a user error, not a crash
        raise Invalid("That page link is not valid any more; start from the first page.") from None


def _business(uow: UnitOfWork) -> UUID:
    if uow.actor.business_id is None:
        raise NotAllowed("Choose a business first.")
    return uow.actor.business_id


def queue_page(uow: UnitOfWork, f: ReturnQueueFilter | None = None, *, cursor: str | None = None,
               page_size: int = 50) -> QueuePage:
    """One page of the queue (keyset: rows after `cursor` in the filter's order) and the total count."""
    f = f or ReturnQueueFilter()
    page_size = max(1, min(MAX_PAGE_SIZE, int(page_size)))
    session = uow.session
    clauses, params = _where(session, _business(uow), f)
    total = int(session.execute(text(f"SELECT count(*) FROM return_requests r WHERE {' AND '.join(clauses)}"), params).scalar())

    key = _SORT_SQL[f.sort]
    direction = "DESC" if f.is_descending else "ASC"
    page_clauses = list(clauses)
    if cursor:
        value, after_id = _decode_cursor(cursor)
        op = "<" if f.is_descending else ">"
        page_clauses.append(f"({key}, r.id) {op} (CAST(:cursor_value AS {_SORT_CAST[f.sort]}), :cursor_id)")
        params.update(cursor_value=value, cursor_id=after_id)
    sql = (
        f"SELECT {_ROW_COLUMNS}, CAST({key} AS text) AS sort_value FROM return_requests r "
        f"WHERE {' AND '.join(page_clauses)} ORDER BY {key} {direction}, r.id {direction} LIMIT :limit"
    )
    params["limit"] = page_size + 1
    found = session.execute(text(sql), params).mappings().all()
    more = len(found) > page_size
    found = found[:page_size]
    next_cursor = _encode_cursor(found[-1]["sort_value"], found[-1]["id"]) if more and found else None
    return QueuePage(rows=[_row(m) for m in found], total=total, page_size=page_size, next_cursor=next_cursor, cursor=cursor)


class QueueKpis(BaseModel):
    """The workload of the current business, whatever the filter."""

    waiting: int = Field(description="returns needing a decision (needs review or escalated)")
    awaiting_triage: int
    overdue: int = Field(description="waiting longer than the review SLA")
    sla_hours: float
    median_age_hours: float | None = Field(None, description="None when nothing is waiting")
    oldest_age_hours: float | None = None
    value_at_stake: float = Field(description="order value of the waiting returns")


def queue_kpis(uow: UnitOfWork, sla_hours: float = 48.0) -> QueueKpis:
    business_id = _business(uow)
    m = uow.session.execute(
        text(
            f"""
            SELECT count(*) FILTER (WHERE waiting) AS waiting,
                   count(*) FILTER (WHERE r.status = 'pending_triage') AS awaiting_triage,
                   count(*) FILTER (WHERE waiting AND age_hours >= :sla_hours) AS overdue,
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY age_hours) FILTER (WHERE waiting) AS median_age,
                   max(age_hours) FILTER (WHERE waiting) AS oldest_age,
                   coalesce(sum(coalesce(r.order_value, 0)) FILTER (WHERE waiting), 0) AS value_at_stake
            FROM (SELECT r.*, {_AGE_HOURS} AS age_hours, r.status = ANY(:needs) AS waiting
                  FROM return_requests r
                  WHERE r.business_id = :business_id AND r.status = ANY(:open) AND NOT r.is_test) r
            """
        ),
        {"business_id": business_id, "sla_hours": sla_hours, "needs": list(NEEDS_DECISION),
         "open": list(NEEDS_DECISION) + ["pending_triage"]},
    ).mappings().one()
    return QueueKpis(
        waiting=m["waiting"], awaiting_triage=m["awaiting_triage"], overdue=m["overdue"], sla_hours=sla_hours,
        median_age_hours=round(float(m["median_age"]), 1) if m["median_age"] is not None else None,
        oldest_age_hours=round(float(m["oldest_age"]), 1) if m["oldest_age"] is not None else None,
        value_at_stake=round(float(m["value_at_stake"]), 2),
    )


def filter_options(uow: UnitOfWork) -> dict[str, list[str]]:
    """The categories and statuses that occur in this business (for the filter widgets)."""
    business_id = _business(uow)
    rows = uow.session.execute(
        text(
            "SELECT 'category' AS kind, product_category AS value FROM return_requests "
            "WHERE business_id = :b AND NOT is_test AND product_category IS NOT NULL GROUP BY product_category "
            "UNION ALL SELECT 'status', status FROM return_requests WHERE business_id = :b AND NOT is_test "
            "AND status IS NOT NULL GROUP BY status"
        ),
        {"b": business_id},
    ).all()
    categories = sorted(v for k, v in rows if k == "category")
    seen = {v for k, v in rows if k == "status"}
    statuses = list(STATUSES) + sorted(seen - set(STATUSES))
    return {"categories": categories, "statuses": statuses, "reasons": list(REASON_CODES)}


def policy_versions(uow: UnitOfWork) -> list[tuple[str, bool]]:
    """The business's policy versions, newest first, with which one is active (for choosing one to triage under)."""
    rows = uow.session.execute(
        text("SELECT version, coalesce(is_active, false) FROM policies WHERE business_id = :b "
             "ORDER BY is_active DESC NULLS LAST, created_at DESC, id DESC"),
        {"b": _business(uow)},
    ).all()
    seen: dict[str, bool] = {}
    for version, active in rows:
        seen.setdefault(version, bool(active))
    return list(seen.items())


CSV_COLUMNS = ["public_id", "created_at", "status", "order_id", "customer_email", "reason_code", "reason_for_return",
               "product_category", "order_value", "risk_score", "risk_band", "ai_recommendation", "ai_confidence",
               "policy_version_used", "age_hours", "sla_state"]


def _csv_cell(value: Any) -> Any:
    """Customer text that a spreadsheet would run as a formula is prefixed with a quote."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def export_csv(uow: UnitOfWork, f: ReturnQueueFilter | None = None) -> str:
    """Every return matching the filter (all pages), in the filter's order, as CSV text."""
    f = f or ReturnQueueFilter()
    session = uow.session
    clauses, params = _where(session, _business(uow), f)
    direction = "DESC" if f.is_descending else "ASC"
    sql = (
        f"SELECT {_ROW_COLUMNS} FROM return_requests r WHERE {' AND '.join(clauses)} "
        f"ORDER BY {_SORT_SQL[f.sort]} {direction}, r.id {direction}"
    )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for m in session.execute(text(sql).execution_options(yield_per=1000), params).mappings():
        row = _row(m).model_dump()
        writer.writerow([_csv_cell(row[c]) for c in CSV_COLUMNS])
    return out.getvalue()


# --------------------------------------------------------------------------------------------------- review panel
class EvidenceItem(BaseModel):
    url: str
    kind: Literal["image", "video", "document", "link", "unsafe"]

    @property
    def is_web(self) -> bool:
        return self.kind != "unsafe"


class TranscriptTurn(BaseModel):
    speaker: str
    text: str
    at: str | None = None


class OrderInfo(BaseModel):
    order_id: str
    product_name: str | None = None
    product_category: str | None = None
    purchase_date: datetime | None = None
    purchase_price: float | None = None
    quantity: int | None = None
    order_value: float | None = None
    order_status: str | None = None


class RuleFired(BaseModel):
    rule: str
    outcome: str
    detail: str
    inputs: dict[str, Any] = Field(default_factory=dict)


class OtherReturn(BaseModel):
    public_id: UUID
    created_at: datetime | None
    status: str | None
    order_id: str
    order_value: float
    reason_for_return: str | None


class RiskProfile(BaseModel):
    risk_score: float | None
    return_frequency: int | None
    fraud_indicators: dict[str, Any] = Field(default_factory=dict)
    behavior_patterns: dict[str, Any] = Field(default_factory=dict)
    last_updated: datetime | None = None


class SecurityEventInfo(BaseModel):
    event_type: str
    severity: str | None
    resolved: bool
    created_at: datetime | None
    event_data: dict[str, Any] = Field(default_factory=dict)


class TimelineEntry(BaseModel):
    at: datetime
    actor: str | None
    action: str
    from_status: str | None = None
    to_status: str | None = None
    note: str | None = None


class ReturnDetail(BaseModel):
    """Everything the review panel shows about one return."""

    id: int
    public_id: UUID
    business_id: UUID
    version: str
    created_at: datetime | None
    age_hours: float | None
    status: str | None
    status_label: str
    order_id: str
    customer_email: str
    reason_for_return: str | None
    reason_code: str
    order: OrderInfo | None
    order_value: float
    product_category: str | None
    days_since_purchase: int | None
    evidence: list[EvidenceItem]
    transcript: list[TranscriptTurn]
    ai_recommendation: str | None
    ai_confidence: float | None
    ai_reasoning: str | None
    rules_fired: list[RuleFired] | None = Field(None, description="None when no rule trace was stored")
    policy_violations: list[Any]
    risk_factors: list[Any]
    risk_score: float | None
    fraud_flags: dict[str, Any]
    policy_version_used: str | None
    triage_agent_id: str | None
    processing_time_ms: int | None
    admin_notes: str | None
    escalation_reason: str | None
    admin_decision_at: datetime | None
    approved_at: datetime | None
    denied_at: datetime | None
    other_returns: list[OtherReturn]
    other_returns_total: int
    risk_profile: RiskProfile | None
    security_events: list[SecurityEventInfo]
    timeline: list[TimelineEntry]
    actions: list[str] = Field(description="what a reviewer may do now")
    is_test: bool = Field(False, description="opened in the chat test lab; never in the live queue")


_IMAGE_EXT = (".jpg", ".jpeg", ".png", ".gif", ".webp")
_VIDEO_EXT = (".mp4", ".mov", ".webm")


def classify_evidence(url: str) -> EvidenceItem:
    """Only http(s) URLs are links or images; anything else (javascript:, data:, file:) is shown as text."""
    raw = (url or "").strip()
    try:
        parts = urlsplit(raw)
    except ValueError:
        return EvidenceItem(url=raw, kind="unsafe")
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return EvidenceItem(url=raw, kind="unsafe")
    path = parts.path.lower()
    if path.endswith(_IMAGE_EXT):
        return EvidenceItem(url=raw, kind="image")
    if path.endswith(_VIDEO_EXT):
        return EvidenceItem(url=raw, kind="video")
    if path.endswith(".pdf") or "receipt" in path:
        return EvidenceItem(url=raw, kind="document")
    return EvidenceItem(url=raw, kind="link")


_SPEAKER_KEYS = ("speaker", "role", "sender", "from", "author", "who")
_TEXT_KEYS = ("text", "content", "message", "body", "utterance")
_TIME_KEYS = ("timestamp", "at", "time", "created_at", "ts")


def transcript_of(log: Any) -> list[TranscriptTurn]:
    """The conversation log (whatever JSON shape it was stored in) as speaker/text turns."""
    if log is None:
        return []
    if isinstance(log, str):
        try:
            log = json.loads(log)
        except ValueError:
            return [TranscriptTurn(speaker="log", text=log)]
    if isinstance(log, dict):
        for key in ("messages", "turns", "transcript", "conversation", "history"):
            if isinstance(log.get(key), list):
                return transcript_of(log[key])
        return [TranscriptTurn(speaker=str(k), text=v if isinstance(v, str) else json.dumps(v)) for k, v in log.items()]
    turns: list[TranscriptTurn] = []
    for item in log if isinstance(log, list) else [log]:
        if isinstance(item, dict):
            speaker = next((str(item[k]) for k in _SPEAKER_KEYS if item.get(k) not in (None, "")), "unknown")
            body = next((item[k] for k in _TEXT_KEYS if item.get(k) is not None), None)
            at = next((str(item[k]) for k in _TIME_KEYS if item.get(k) not in (None, "")), None)
            if body is None:
                body = json.dumps({k: v for k, v in item.items() if k not in _SPEAKER_KEYS + _TIME_KEYS})
            turns.append(TranscriptTurn(speaker=speaker, text=body if isinstance(body, str) else json.dumps(body), at=at))
        else:
            turns.append(TranscriptTurn(speaker="unknown", text=str(item)))
    return turns


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else ({} if value is None else {"value": value})


def locate_return(uow: UnitOfWork, public_id: str | UUID) -> UUID | None:
    """The business of a return the user may see in any of their businesses (deep links); None otherwise.

    Call with a unit of work whose actor has no business selected, so every membership counts.
    """
    try:
        pid = UUID(str(public_id).strip())
    except ValueError:
        return None
    return uow.session.execute(
        text("SELECT business_id FROM return_requests WHERE public_id = :p"), {"p": pid}
    ).scalar()


def _fetch_row(session: Session, business_id: UUID, *, return_id: int | None = None, public_id: UUID | None = None,
               lock: bool = False) -> Any:
    where = "r.id = :id" if return_id is not None else "r.public_id = :pid"
    return session.execute(
        text(
            f"SELECT r.*, CAST(r.xmin AS text) AS version, ({_REASON_SQL}) AS reason_code, {_AGE_HOURS} AS age_hours "
            f"FROM return_requests r WHERE r.business_id = :b AND {where}" + (" FOR UPDATE" if lock else "")
        ),
        {"b": business_id, "id": return_id, "pid": public_id},
    ).mappings().first()


def timeline(uow: UnitOfWork, return_id: int) -> list[TimelineEntry]:
    entries = []
    for row in audit.history(uow, ENTITY, return_id):
        before, after = row.before or {}, row.after or {}
        entries.append(TimelineEntry(
            at=row.created_at, actor=row.actor_email or (str(row.actor_id) if row.actor_id else None), action=row.action,
            from_status=before.get("status"), to_status=after.get("status"), note=row.note,
        ))
    return entries


def return_detail(uow: UnitOfWork, public_id: str | UUID) -> ReturnDetail:
    """The review panel's data for one return of the current business."""
    business_id = _business(uow)
    try:
        pid = UUID(str(public_id).strip())
    except ValueError:
        raise NotFound("That is not a return id: check the link.") from None
    session = uow.session
    r = _fetch_row(session, business_id, public_id=pid)
    if r is None:
        raise NotFound("No return with that id in this business.")

    order = session.execute(
        text(
            "SELECT order_id, product_name, product_category, purchase_date, purchase_price, quantity, order_value, "
            "order_status FROM mock_orders WHERE order_id = :o AND (business_id = :b OR business_id IS NULL) LIMIT 1"
        ),
        {"o": r["order_id"], "b": business_id},
    ).mappings().first()
    others = session.execute(
        text(
            "SELECT public_id, created_at, status, order_id, coalesce(order_value, 0) AS order_value, reason_for_return, "
            "count(*) OVER () AS total FROM return_requests WHERE business_id = :b AND customer_email = :e AND id <> :id "
            "AND NOT is_test "
            "ORDER BY created_at DESC, id DESC LIMIT 20"
        ),
        {"b": business_id, "e": r["customer_email"], "id": r["id"]},
    ).mappings().all()
    profile = session.execute(
        text(
            "SELECT risk_score, return_frequency, fraud_indicators, behavior_patterns, last_updated "
            "FROM customer_risk_profiles WHERE business_id = :b AND customer_email = :e "
            "ORDER BY last_updated DESC NULLS LAST LIMIT 1"
        ),
        {"b": business_id, "e": r["customer_email"]},
    ).mappings().first()
    events = session.execute(
        text(
            "SELECT event_type, severity, coalesce(resolved, false) AS resolved, created_at, event_data "
            "FROM security_events WHERE return_request_id = :id ORDER BY created_at"
        ),
        {"id": r["id"]},
    ).mappings().all()

    details = r.get("triage_details") or {}
    rules = details.get("rules_fired") if isinstance(details, dict) else None
    return ReturnDetail(
        id=r["id"], public_id=r["public_id"], business_id=r["business_id"], version=r["version"],
        created_at=r["created_at"], age_hours=round(float(r["age_hours"]), 1) if r["age_hours"] is not None else None,
        status=r["status"], status_label=label(r["status"]), order_id=r["order_id"], customer_email=r["customer_email"],
        reason_for_return=r["reason_for_return"], reason_code=r["reason_code"],
        order=OrderInfo(**{k: (float(v) if k in ("purchase_price", "order_value") and v is not None else v)
                           for k, v in order.items()}) if order else None,
        order_value=float(r["order_value"] or 0), product_category=r["product_category"],
        days_since_purchase=r["days_since_purchase"],
        evidence=[classify_evidence(u) for u in (r["evidence_urls"] or [])],
        transcript=transcript_of(r["conversation_log"]),
        ai_recommendation=r["ai_recommendation"],
        ai_confidence=float(r["ai_confidence"]) if r.get("ai_confidence") is not None else None,
        ai_reasoning=r["ai_reasoning"],
        rules_fired=[RuleFired(**c) for c in rules] if isinstance(rules, list) else None,
        policy_violations=_as_list(r["policy_violations"]), risk_factors=_as_list(r["risk_factors"]),
        risk_score=float(r["risk_score"]) if r["risk_score"] is not None else None,
        fraud_flags=_as_dict(r["fraud_flags"]), policy_version_used=r["policy_version_used"],
        triage_agent_id=r["triage_agent_id"], processing_time_ms=r["processing_time_ms"],
        admin_notes=r["admin_notes"], escalation_reason=r["escalation_reason"],
        admin_decision_at=r["admin_decision_at"], approved_at=r["approved_at"], denied_at=r["denied_at"],
        other_returns=[OtherReturn(public_id=o["public_id"], created_at=o["created_at"], status=o["status"],
                                   order_id=o["order_id"], order_value=float(o["order_value"]),
                                   reason_for_return=o["reason_for_return"]) for o in others],
        other_returns_total=int(others[0]["total"]) if others else 0,
        risk_profile=RiskProfile(
            risk_score=float(profile["risk_score"]) if profile["risk_score"] is not None else None,
            return_frequency=profile["return_frequency"], fraud_indicators=_as_dict(profile["fraud_indicators"]),
            behavior_patterns=_as_dict(profile["behavior_patterns"]), last_updated=profile["last_updated"],
        ) if profile else None,
        security_events=[SecurityEventInfo(event_type=e["event_type"], severity=e["severity"], resolved=e["resolved"],
                                           created_at=e["created_at"], event_data=_as_dict(e["event_data"])) for e in events],
        timeline=timeline(uow, r["id"]),
        actions=actions_for(r["status"]),
        is_test=bool(r.get("is_test")),
    )


# --------------------------------------------------------------------------------------------------- decisions
class DecisionOutcome(BaseModel):
    id: int
    public_id: UUID
    action: str
    from_status: str | None
    to_status: str
    version: str = Field(description="the row's new version")
    decided_at: datetime


class RowConflict(BaseModel):
    id: int
    public_id: UUID | None
    message: str


class BulkOutcome(BaseModel):
    action: str
    decided: list[DecisionOutcome]
    conflicts: list[RowConflict]


class SeenReturn(BaseModel):
    """A return as the reviewer saw it: its id and the version shown on their screen."""

    id: int
    version: str


_SNAPSHOT = ("status", "admin_notes", "admin_decision_at", "approved_at", "denied_at", "escalation_reason")


def _snapshot(row: Any) -> dict[str, Any]:
    return {k: row[k] for k in _SNAPSHOT}


def require_decider(uow: UnitOfWork) -> UUID:
    """The acting user's role in the current business, read from Postgres (the UI is not trusted)."""
    business_id = _business(uow)
    role = uow.session.execute(text("SELECT dokani.member_role(:b)"), {"b": business_id}).scalar()
    if role not in DECIDING_ROLES:
        raise NotAllowed(
            f"Your role here is {role or 'none'}: only owners, admins and reviewers can decide returns."
        )
    return business_id


def _check_note(action: str, note: str | None) -> str | None:
    if action not in ACTION_TARGET:
        raise Invalid(f"Unknown action {action!r}.", {"action": "approve, deny, escalate or complete"})
    cleaned = (note or "").strip() or None
    if cleaned and len(cleaned) > 5000:
        raise Invalid("The note is too long (5,000 characters at most).", {"Note": "at most 5,000 characters"})
    if action in ACTIONS_NEEDING_REASON and not cleaned:
        verb = "deny" if action == "deny" else "escalate"
        raise Invalid(f"Say why you {verb} this return: write the reason in the Note.", {"Note": f"a reason is needed to {verb}"})
    return cleaned


def _fmt_time(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    return str(value) if value else "an unknown time"


def explain_change(uow: UnitOfWork, row: Any) -> str:
    """Who did what to this return, and when: the last audit entry (or what is known without one)."""
    last = uow.session.execute(
        text(
            "SELECT actor_email, actor_id, action, created_at, note, after ->> 'status' AS status FROM audit_log "
            "WHERE entity = :e AND entity_id = :id ORDER BY id DESC LIMIT 1"
        ),
        {"e": ENTITY, "id": str(row["id"])},
    ).mappings().first()
    now = label(row["status"]).lower()
    if last is None:
        when = row["admin_decision_at"]
        return f"It changed since you opened it and is now {now}" + (f" (decided {_fmt_time(when)})" if when else "") + "."
    who = last["actor_email"] or str(last["actor_id"] or "someone")
    verb = {"approve": "approved", "deny": "denied", "escalate": "escalated", "complete": "completed",
            "triage": "triaged"}.get(last["action"], last["action"])
    text_ = f"{who} {verb} it at {_fmt_time(last['created_at'])}; it is now {now}."
    if last["note"]:
        text_ += f" Their note: {last['note'][:200]}"
    return text_


def _apply(uow: UnitOfWork, row: Any, action: str, note: str | None) -> DecisionOutcome:
    target = ACTION_TARGET[action]
    sets = ["status = :target", "admin_decision_at = timezone('utc', now())"]
    if note:
        sets.append("admin_notes = :note")
    if target == APPROVED:
        sets.append("approved_at = timezone('utc', now())")
    elif target == DENIED:
        sets.append("denied_at = timezone('utc', now())")
    elif target == ESCALATED:
        sets.append("escalation_reason = :note")
    elif target == COMPLETED:
        sets = ["status = :target"]
    after = uow.session.execute(
        text(
            f"UPDATE return_requests SET {', '.join(sets)} WHERE id = :id AND CAST(xmin AS text) = :version "
            f"RETURNING *, CAST(xmin AS text) AS version, timezone('utc', now()) AS decided_at"
        ),
        {"target": target, "note": note, "id": row["id"], "version": row["version"]},
    ).mappings().first()
    if after is None:  # cannot happen under the row lock; never write blind
        raise Conflict("This return changed while your decision was being saved. Nothing was changed.")
    audit.record(uow, action, ENTITY, row["id"], before=_snapshot(row), after=_snapshot(after), note=note)
    return DecisionOutcome(id=row["id"], public_id=row["public_id"], action=action, from_status=row["status"],
                           to_status=target, version=after["version"], decided_at=after["decided_at"])


def _refuse_illegal(row: Any, action: str) -> str | None:
    target = ACTION_TARGET[action]
    if may_human_move(row["status"], target):
        return None
    if row["status"] == "pending_triage":
        return "This return has not been triaged yet: run triage first."
    return f"A return that is {label(row['status']).lower()} cannot be {ACTION_TARGET[action].replace('_', ' ')}."


def decide_return(uow: UnitOfWork, return_id: int, action: Action, *, expected_version: str,
                  note: str | None = None) -> DecisionOutcome:
    """Approve, deny, escalate (or complete) one return, if it is still as the reviewer saw it.

    One transaction: the row (status, admin_notes, admin_decision_at, approved_at / denied_at,
    escalation_reason) and an audit row with before and after. A stale `expected_version` raises
    `Conflict` naming who changed the return and when; nothing is written then.
    """
    note = _check_note(action, note)
    business_id = require_decider(uow)
    row = _fetch_row(uow.session, business_id, return_id=return_id, lock=True)
    if row is None:
        raise NotFound("No return with that id in this business.")
    if row["version"] != expected_version:
        raise Conflict("Your decision was not saved: this return changed since you opened it. " + explain_change(uow, row))
    problem = _refuse_illegal(row, action)
    if problem:
        raise NotAllowed(problem)
    outcome = _apply(uow, row, action, note)
    uow.commit()
    return outcome


def decide_returns(uow: UnitOfWork, seen: Iterable[SeenReturn], action: Literal["approve", "deny"], *,
                   note: str | None = None) -> BulkOutcome:
    """Bulk approve / deny with one note, in one transaction; rows that changed or cannot move are reported."""
    if action not in ("approve", "deny"):
        raise Invalid("Bulk decisions are approve or deny.", {"action": "approve or deny"})
    note = _check_note(action, note)
    business_id = require_decider(uow)
    wanted = {s.id: s.version for s in seen}
    if not wanted:
        raise Invalid("Select at least one return.", {"selection": "nothing selected"})
    if len(wanted) > MAX_PAGE_SIZE:
        raise Invalid(f"At most {MAX_PAGE_SIZE} returns at once.", {"selection": "too many"})
    rows = uow.session.execute(
        text(
            "SELECT r.*, CAST(r.xmin AS text) AS version FROM return_requests r "
            "WHERE r.business_id = :b AND r.id = ANY(:ids) ORDER BY r.id FOR UPDATE"
        ),
        {"b": business_id, "ids": list(wanted)},
    ).mappings().all()
    by_id = {r["id"]: r for r in rows}
    decided: list[DecisionOutcome] = []
    conflicts: list[RowConflict] = []
    for rid in sorted(wanted):
        row = by_id.get(rid)
        if row is None:
            conflicts.append(RowConflict(id=rid, public_id=None, message="not found in this business"))
        elif row["version"] != wanted[rid]:
            conflicts.append(RowConflict(id=rid, public_id=row["public_id"], message=explain_change(uow, row)))
        elif problem := _refuse_illegal(row, action):
            conflicts.append(RowConflict(id=rid, public_id=row["public_id"], message=problem))
        else:
            decided.append(_apply(uow, row, action, note))
    uow.commit()
    return BulkOutcome(action=action, decided=decided, conflicts=conflicts)
