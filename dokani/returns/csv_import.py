"""Import return requests from a CSV file (a shop's export): validated whole, written whole, or not at all.

Every row is checked before anything is written; a file with any bad row is refused with one message per
problem, each naming its line and column. A good file becomes ``pending_triage`` returns of the acting
business in one transaction, with one audit row for the import.
"""
from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime
from typing import Callable

from pydantic import BaseModel, Field
from sqlalchemy import insert, select
from sqlalchemy import text as sa_text

from db.uow import UnitOfWork
from dokani import audit
from dokani.errors import Invalid, NotAllowed
from dokani.models import ReturnRequest
from dokani.policies.rules import KNOWN_CATEGORIES

REQUIRED = ("order_id", "customer_email", "reason_for_return")
OPTIONAL = ("created_at", "order_value", "product_category", "days_since_purchase", "evidence_urls")
MAX_BYTES = 10 * 2**20
MAX_ROWS = 50_000
CAN_IMPORT = ("owner", "admin")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_URL = re.compile(r"^https?://\S+$", re.I)

Progress = Callable[[int, int], None]


class ImportedReturn(BaseModel):
    line: int
    order_id: str
    customer_email: str
    reason_for_return: str
    created_at: datetime | None = None
    order_value: float | None = None
    product_category: str | None = None
    days_since_purchase: int | None = None
    evidence_urls: list[str] = Field(default_factory=list)


class ImportPreview(BaseModel):
    rows: list[ImportedReturn]
    problems: list[str]  # "line 4, customer_email: not an email address"

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.rows)


def _parse_row(line: int, raw: dict[str, str], problems: list[str]) -> ImportedReturn | None:
    def bad(column: str, message: str) -> None:
        problems.append(f"line {line}, {column}: {message}")

    values = {k: (v or "").strip() for k, v in raw.items() if k}
    before = len(problems)
    for column in REQUIRED:
        if not values.get(column):
            bad(column, "is empty")
    email = values.get("customer_email", "")
    if email and not _EMAIL.match(email):
        bad("customer_email", f"not an email address: {email[:60]!r}")
    created = None
    if values.get("created_at"):
        try:
            created = datetime.fromisoformat(values["created_at"])
            if created.tzinfo is not None:  # stored as naive UTC, like every timestamp of the schema
                created = created.astimezone(tz=None).replace(tzinfo=None)
        except ValueError:
            bad("created_at", f"not a date/time (use ISO 8601, e.g. {date.today().isoformat()} 14:30): {values['created_at'][:40]!r}")
    value = None
    if values.get("order_value"):
        try:
            value = float(values["order_value"].replace(",", ""))
            if value < 0:
                bad("order_value", "must not be negative")
        except ValueError:
            bad("order_value", f"not a number: {values['order_value'][:30]!r}")
    days = None
    if values.get("days_since_purchase"):
        try:
            days = int(values["days_since_purchase"])
            if days < 0:
                bad("days_since_purchase", "must not be negative")
        except ValueError:
            bad("days_since_purchase", f"not a whole number: {values['days_since_purchase'][:30]!r}")
    category = values.get("product_category") or None
    if category and category.lower() not in KNOWN_CATEGORIES:
        bad("product_category", f"unknown category {category[:40]!r} (known: {', '.join(KNOWN_CATEGORIES)})")
    urls = [u for u in re.split(r"[\s|]+", values.get("evidence_urls", "")) if u]
    for url in urls:
        if not _URL.match(url):
            bad("evidence_urls", f"only http(s) links are accepted: {url[:60]!r}")
    if len(problems) > before:
        return None
    return ImportedReturn(
        line=line, order_id=values["order_id"], customer_email=email.lower(), reason_for_return=values["reason_for_return"],
        created_at=created, order_value=value, product_category=category.lower() if category else None,
        days_since_purchase=days, evidence_urls=urls,
    )


def preview_returns_csv(data: bytes) -> ImportPreview:
    """Parse and check a whole file; nothing is written."""
    if len(data) > MAX_BYTES:
        return ImportPreview(rows=[], problems=[f"the file is larger than {MAX_BYTES // 2**20} MiB; split it"])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        return ImportPreview(rows=[], problems=[f"the file is not UTF-8 text (byte {err.start} cannot be read)"])
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        return ImportPreview(rows=[], problems=[
            f"line 1: missing column(s) {', '.join(missing)}; expected {', '.join(REQUIRED)} "
            f"and optionally {', '.join(OPTIONAL)}"])
    unknown = [h for h in header if h and h not in REQUIRED + OPTIONAL]
    problems: list[str] = [f"line 1: unknown column(s) {', '.join(unknown)}"] if unknown else []
    reader.fieldnames = header
    rows: list[ImportedReturn] = []
    try:
        for raw in reader:
            line = reader.line_num
            if None in raw:  # more cells than the header names
                problems.append(f"line {line}: {len(raw[None])} cell(s) more than the header has")
                continue
            if len(rows) >= MAX_ROWS:
                problems.append(f"line {line}: more than {MAX_ROWS:,} returns; split the file")
                break
            row = _parse_row(line, raw, problems)
            if row:
                rows.append(row)
    except csv.Error as err:
        problems.append(f"line {reader.line_num}: {err}")
    if not rows and not problems:
        problems.append("the file has a header but no returns")
    return ImportPreview(rows=rows, problems=problems[:200] + ([f"… and {len(problems) - 200} more"] if len(problems) > 200 else []))


def import_returns(uow: UnitOfWork, preview: ImportPreview, *, file_name: str, progress: Progress | None = None,
                   chunk: int = 1000) -> int:
    """Write a checked file as pending_triage returns of the acting business; return how many."""
    role = uow.session.execute(sa_text("SELECT dokani.member_role(:b)"), {"b": uow.actor.business_id}).scalar()  # from Postgres, not the UI
    if role not in CAN_IMPORT:
        raise NotAllowed("Only owners and admins can import returns.")
    if not preview.ok:
        raise Invalid("The file has problems; nothing was imported.", {"file": "; ".join(preview.problems[:5])})
    business = uow.actor.business_id
    orders = {r.order_id for r in preview.rows}
    open_orders = set(uow.session.scalars(
        select(ReturnRequest.order_id).where(
            ReturnRequest.order_id.in_(orders),
            ReturnRequest.status.in_(("pending_triage", "pending_review", "escalated")),
            ReturnRequest.is_test.is_(False),
        )
    ))
    clashes = [f"line {r.line}, order_id: order {r.order_id} already has an open return" for r in preview.rows
               if r.order_id in open_orders]
    if clashes:
        raise Invalid("Some orders already have an open return; nothing was imported.",
                      {"file": "; ".join(clashes[:5]) + (f" (and {len(clashes) - 5} more)" if len(clashes) > 5 else "")})
    total = len(preview.rows)
    now = datetime.utcnow().replace(microsecond=0)
    for start in range(0, total, chunk):
        batch = preview.rows[start:start + chunk]
        uow.session.execute(insert(ReturnRequest), [
            {
                "business_id": business, "order_id": r.order_id, "customer_email": r.customer_email,
                "reason_for_return": r.reason_for_return, "status": "pending_triage", "evidence_urls": r.evidence_urls,
                "order_value": r.order_value if r.order_value is not None else 0, "product_category": r.product_category,
                "days_since_purchase": r.days_since_purchase, "created_at": r.created_at or now,
            }
            for r in batch
        ])
        if progress:
            progress(min(start + chunk, total), total)
    audit.record(uow, "import", "return_requests", file_name, None, {"returns": total, "file": file_name})
    return total


TEMPLATE = (
    "order_id,customer_email,reason_for_return,created_at,order_value,product_category,days_since_purchase,evidence_urls\n"
    "ORD-1001,jane@example.com,The mug arrived cracked,2026-11-20 09:15,24.90,home,3,https://cdn.example.com/photo1.jpg\n"
)
