"""The return queue: keyset pages of the returns a filter selects, the KPI strip, filter options, CSV export.

Every figure comes from SQL over ``return_requests`` (tenant-scoped by row-level security and by the
acting business); the filter and its SQL are in ``dokani.returns.filters``.
"""
from __future__ import annotations

import base64
import csv
import io
import json
from datetime import datetime, timedelta
from typing import Any, Iterator
from uuid import UUID

from pydantic import BaseModel, Field
from sqlalchemy import text

from db.uow import UnitOfWork
from dokani.errors import Invalid
from dokani.labels import say
from dokani.returns.filters import (
    REASON_CODES,
    ROW_COLUMNS,
    SORT_CAST,
    SORT_SQL,
    ReturnQueueFilter,
    RiskBand,
    text_array,
    where_clauses,
)
from dokani.returns.rows import acting_business
from dokani.returns.status import NEEDS_DECISION, STATUSES
from dokani.risk.profiles import band_of
from dokani.risk.bands import NOT_SCORED

MAX_PAGE_SIZE = 500


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
    risk_score: float | None = Field(description="None: never triaged, not scored yet")
    risk_band: RiskBand | None
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
        frame["risk_band"] = frame["risk_band"].fillna(NOT_SCORED)
        return frame[columns]


def risk_band(score: float | None) -> RiskBand | None:
    return band_of(score)  # type: ignore[return-value]


def _row(m: Any) -> QueueRow:
    risk = float(m["risk_score"]) if m["risk_score"] is not None else None
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


def queue_page(uow: UnitOfWork, f: ReturnQueueFilter | None = None, *, cursor: str | None = None,
               page_size: int = 50) -> QueuePage:
    """One page of the queue (keyset: rows after `cursor` in the filter's order) and the total count."""
    f = f or ReturnQueueFilter()
    page_size = max(1, min(MAX_PAGE_SIZE, int(page_size)))
    session = uow.session
    clauses, params = where_clauses(acting_business(uow), f)
    key = SORT_SQL[f.sort]
    direction = "DESC" if f.is_descending else "ASC"
    page_clauses = list(clauses)
    if cursor:
        value, after_id = _decode_cursor(cursor)
        op = "<" if f.is_descending else ">"
        page_clauses.append(f"({key}, r.id) {op} (CAST(:cursor_value AS {SORT_CAST[f.sort]}), :cursor_id)")
        params.update(cursor_value=value, cursor_id=after_id)
    # The count and the page in one statement, so they come from one snapshot: a total above zero always comes
    # with its rows (two statements could see a decision land between them).
    sql = (
        f"WITH total AS (SELECT count(*) AS n FROM return_requests r WHERE {' AND '.join(clauses)}), "
        f"page AS (SELECT {ROW_COLUMNS}, CAST({key} AS text) AS sort_value, {key} AS sort_key FROM return_requests r "
        f"WHERE {' AND '.join(page_clauses)} ORDER BY {key} {direction}, r.id {direction} LIMIT :limit) "
        f"SELECT total.n AS total, page.* FROM total LEFT JOIN page ON true "
        f"ORDER BY page.sort_key {direction}, page.id {direction}"
    )
    params["limit"] = page_size + 1
    result = session.execute(text(sql), params).mappings().all()
    total = int(result[0]["total"]) if result else 0
    found = [m for m in result if m["id"] is not None]
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
    """The one definition of "waiting" and "overdue": the Returns page and the overview both show these figures.

    Index-only reads of ``return_requests_waiting_idx`` (revision 0013) and a count of those awaiting triage."""
    business_id = acting_business(uow)
    waiting = f"r.business_id = :b AND NOT r.is_test AND r.status = ANY({text_array(NEEDS_DECISION)})"
    at = SORT_SQL["age"]  # the expression return_requests_waiting_idx is ordered by
    m = uow.session.execute(
        text(
            f"""
            WITH w AS (SELECT count(*) AS n, coalesce(sum(coalesce(r.order_value, 0)), 0) AS value_at_stake,
                              count(*) FILTER (WHERE {at} <= timezone('utc', now()) - :sla) AS overdue,
                              min({at}) AS oldest
                       FROM return_requests r WHERE {waiting})
            SELECT w.n AS waiting, w.value_at_stake, w.overdue, w.oldest,
                   (SELECT {at} FROM return_requests r WHERE {waiting}
                    ORDER BY {at} DESC OFFSET (w.n - 1) / 2 LIMIT 1) AS median_upper,
                   (SELECT {at} FROM return_requests r WHERE {waiting}
                    ORDER BY {at} DESC OFFSET w.n / 2 LIMIT 1) AS median_lower,
                   (SELECT count(*) FROM return_requests r WHERE r.business_id = :b AND NOT r.is_test
                      AND r.status = 'pending_triage') AS awaiting_triage,
                   timezone('utc', now()) AS now
            FROM w
            """
        ),
        {"b": business_id, "sla": timedelta(hours=sla_hours)},
    ).mappings().one()

    def age(at) -> float | None:
        return None if at is None else (m["now"] - at).total_seconds() / 3600

    median = None
    if m["waiting"]:
        # ages sorted youngest first: the middle one, or the mean of the middle two (as percentile_cont does)
        median = round((age(m["median_upper"]) + age(m["median_lower"])) / 2, 1)
    oldest = age(m["oldest"])
    return QueueKpis(
        waiting=m["waiting"], awaiting_triage=m["awaiting_triage"], overdue=m["overdue"], sla_hours=sla_hours,
        median_age_hours=median, oldest_age_hours=round(oldest, 1) if oldest is not None else None,
        value_at_stake=round(float(m["value_at_stake"]), 2),
    )


def _distinct_values(uow: UnitOfWork, business_id: UUID, column: str) -> list[str]:
    """The distinct non-null values of `column` among a business's live returns: a skip scan over an index on
    (business_id, column), one probe per value, instead of reading every return."""
    probe = (f"SELECT {column} FROM return_requests WHERE business_id = :b AND NOT is_test AND {column} IS NOT NULL")
    return list(uow.session.execute(
        text(
            f"""
            WITH RECURSIVE v(value) AS (
              ({probe} ORDER BY {column} LIMIT 1)
              UNION ALL
              SELECT ({probe} AND {column} > v.value ORDER BY {column} LIMIT 1) FROM v WHERE v.value IS NOT NULL
            )
            SELECT value FROM v WHERE value IS NOT NULL
            """
        ),
        {"b": business_id},
    ).scalars())


def filter_options(uow: UnitOfWork) -> dict[str, list[str]]:
    """The categories and statuses that occur in this business (for the filter widgets)."""
    business_id = acting_business(uow)
    categories = _distinct_values(uow, business_id, "product_category")  # return_requests_category_idx (0013)
    seen = set(_distinct_values(uow, business_id, "status"))  # return_requests_live_queue_idx (0005)
    statuses = list(STATUSES) + sorted(seen - set(STATUSES))
    return {"categories": categories, "statuses": statuses, "reasons": list(REASON_CODES)}


CSV_COLUMNS = ["public_id", "created_at", "status", "order_id", "customer_email", "reason_code", "reason_for_return",
               "product_category", "order_value", "risk_score", "risk_band", "ai_recommendation", "ai_confidence",
               "policy_version_used", "age_hours", "sla_state"]



def _csv_cell(value: Any) -> Any:
    """Customer text that a spreadsheet would run as a formula is prefixed with a quote."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def iter_csv(uow: UnitOfWork, f: ReturnQueueFilter | None = None, batch: int = 1000) -> Iterator[str]:
    """Every return matching the filter (all pages), in the filter's order, as CSV text in chunks of `batch`
    rows: read with a server-side cursor, so memory stays the same for 250 rows or 250,000."""
    f = f or ReturnQueueFilter()
    clauses, params = where_clauses(acting_business(uow), f)
    direction = "DESC" if f.is_descending else "ASC"
    sql = (
        f"SELECT {ROW_COLUMNS} FROM return_requests r WHERE {' AND '.join(clauses)} "
        f"ORDER BY {SORT_SQL[f.sort]} {direction}, r.id {direction}"
    )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([CSV_HEADERS[c] for c in CSV_COLUMNS])
    result = uow.session.execute(text(sql).execution_options(yield_per=batch, stream_results=True), params)
    for rows in result.mappings().partitions(batch):
        # plain values, not QueueRow models: a quarter of a million rows is seconds, not half a minute
        writer.writerows([_csv_cell(_csv_value(m, c)) for c in CSV_COLUMNS] for m in rows)
        yield out.getvalue()
        out.seek(0)
        out.truncate()
    yield out.getvalue()


# The export's header row and the words its codes are written in (dokani.labels, as on the page).
CSV_HEADERS = {
    "public_id": "Return id", "created_at": "Asked at (UTC)", "status": "Status", "order_id": "Order",
    "customer_email": "Customer email", "reason_code": "Reason", "reason_for_return": "Customer's words",
    "product_category": "Category", "order_value": "Order value", "risk_score": "Risk score",
    "risk_band": "Risk band", "ai_recommendation": "AI recommendation", "ai_confidence": "AI confidence",
    "policy_version_used": "Policy version", "age_hours": "Age (hours)", "sla_state": "SLA",
}
_CSV_WORDS = {"status": "status", "reason_code": "reason", "ai_recommendation": "recommendation", "sla_state": "sla",
              "risk_band": "risk_band"}


def _csv_value(m: Any, column: str) -> Any:
    if column == "risk_band":
        band = risk_band(float(m["risk_score"])) if m["risk_score"] is not None else None
        return say("risk_band", band, empty="Not scored yet")
    if column in _CSV_WORDS:
        return say(_CSV_WORDS[column], m[column], empty="")
    if column == "age_hours":
        return round(float(m["age_hours"]), 2) if m["age_hours"] is not None else None
    if column == "order_value":
        return float(m[column] or 0)
    if column == "risk_score":
        return float(m[column]) if m[column] is not None else None
    return m[column]


def export_csv(uow: UnitOfWork, f: ReturnQueueFilter | None = None) -> str:
    """The whole export as one string (the CLI, small exports)."""
    return "".join(iter_csv(uow, f))
