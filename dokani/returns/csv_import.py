"""Import return requests from a CSV file (a shop's export): validated whole, written whole, or not at all.

Every row is checked before anything is written; a file with any bad row is refused with one message per
problem (every problem of every line, each naming its line and column; ``problems_csv`` to download them).
Values are checked to what the columns hold (``dokani.limits``): no NUL bytes, finite numbers, 32-bit whole
numbers, dates between 1970 and 2100 converted to UTC and never in the future, each order once per file. A good file becomes ``pending_triage`` returns of the acting
business in one transaction, with one audit row for the import.
"""
from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timezone
from typing import Callable

from pydantic import BaseModel, Field
from sqlalchemy import insert, select
from sqlalchemy import text as sa_text

from db.uow import UnitOfWork
from dokani import audit, limits
from dokani.errors import Invalid, NotAllowed
from dokani.models import ReturnRequest
from dokani.policies.rules import KNOWN_CATEGORIES

REQUIRED = ("order_id", "customer_email", "reason_for_return")
OPTIONAL = ("created_at", "order_value", "product_category", "days_since_purchase", "evidence_urls")
MAX_BYTES = 10 * 2**20
MAX_ROWS = 50_000
MAX_CELL = 10_000  # characters in one cell
MAX_DAYS = 36_500
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


class ImportProblem(BaseModel):
    line: int  # 1 is the header; 0 the file as a whole
    column: str = ""
    problem: str

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line else "file"
        return f"{where}, {self.column}: {self.problem}" if self.column else f"{where}: {self.problem}"


class ImportPreview(BaseModel):
    rows: list[ImportedReturn]  # the lines without a problem
    issues: list[ImportProblem] = Field(default_factory=list)  # every problem of every line, in line order
    lines: int = 0  # data lines read

    @property
    def problems(self) -> list[str]:
        """The problems as text ("line 4, customer_email: not an email address"), every one of them."""
        return [str(i) for i in self.issues]

    @property
    def ok(self) -> bool:
        return not self.issues and bool(self.rows)

    def problems_csv(self) -> str:
        """Every problem as a CSV (line, column, problem) to download and fix the file with."""
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["line", "column", "problem"])
        writer.writerows([i.line, i.column, i.problem] for i in self.issues)
        return out.getvalue()


def _refused(problem: str, line: int = 0) -> ImportPreview:
    return ImportPreview(rows=[], issues=[ImportProblem(line=line, problem=problem)])


def _parse_row(line: int, raw: dict[str, str], bad: Callable[[str, str], None], now: datetime) -> ImportedReturn | None:
    """One line, every column checked (each problem reported, not only the first); None if any was found."""
    values = {k: (v or "").strip() for k, v in raw.items() if isinstance(k, str) and k}
    found: list[str] = []

    def problem(column: str, message: str) -> None:
        found.append(column)
        bad(column, message)

    for column, text in values.items():  # what no column can hold (a NUL byte, 30 000 characters)
        if (p := limits.text_problem(text, MAX_CELL)) is not None:
            problem(column, p)
    for column in REQUIRED:
        if not values.get(column):
            problem(column, "is empty")
    if len(values.get("order_id", "")) > 200:
        problem("order_id", "is longer than 200 characters")
    email = values.get("customer_email", "")
    if email and (len(email) > 320 or not _EMAIL.match(email)):
        problem("customer_email", f"not an email address: {email[:60]!r}")
    created = value = days = None
    if values.get("created_at"):
        created, p = limits.parse_timestamp(values["created_at"], not_future=True, now=now)
        if p:
            problem("created_at", p)
    if values.get("order_value"):
        value, p = limits.parse_decimal(values["order_value"])
        if p:
            problem("order_value", p)
    if values.get("days_since_purchase"):
        days, p = limits.parse_int(values["days_since_purchase"])
        if p or (days is not None and not 0 <= days <= MAX_DAYS):
            problem("days_since_purchase", p or f"must be between 0 and {MAX_DAYS:,}")
    category = values.get("product_category") or None
    if category and category.lower() not in KNOWN_CATEGORIES:
        problem("product_category", f"unknown category {category[:40]!r} (known: {', '.join(KNOWN_CATEGORIES)})")
    urls = [u for u in re.split(r"[\s|]+", values.get("evidence_urls", "")) if u]
    for url in urls:
        if not _URL.match(url) or len(url) > 2000:
            problem("evidence_urls", f"only http(s) links are accepted: {url[:60]!r}")
    if len(urls) > 20:
        problem("evidence_urls", "at most 20 links per return")
    if found:
        return None
    return ImportedReturn(
        line=line, order_id=values["order_id"], customer_email=email.lower(), reason_for_return=values["reason_for_return"],
        created_at=created, order_value=value, product_category=category.lower() if category else None,
        days_since_purchase=days, evidence_urls=urls,
    )


def preview_returns_csv(data: bytes, *, now: datetime | None = None) -> ImportPreview:
    """Parse and check a whole file (every problem of every line); nothing is written, the database not read.

    `check_open_returns` adds what only the database knows (orders that already have an open return).
    """
    now = now or datetime.now(timezone.utc).replace(tzinfo=None)
    if len(data) > MAX_BYTES:
        return _refused(f"the file is larger than {MAX_BYTES // 2**20} MiB; split it")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        return _refused(f"the file is not UTF-8 text (byte {err.start} cannot be read)")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in (reader.fieldnames or [])]
    except csv.Error as err:
        return _refused(f"not a CSV file: {err}", 1)
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        return _refused(f"missing column(s) {', '.join(missing)}; expected {', '.join(REQUIRED)} "
                        f"and optionally {', '.join(OPTIONAL)}", 1)
    issues: list[ImportProblem] = []
    unknown = [h for h in header if h and h not in REQUIRED + OPTIONAL]
    if unknown:
        issues.append(ImportProblem(line=1, problem=f"unknown column(s) {', '.join(u[:40] for u in unknown)}"))
    twice = sorted({h for h in header if h and header.count(h) > 1})
    if twice:
        issues.append(ImportProblem(line=1, problem=f"column(s) named twice: {', '.join(twice)}"))
    reader.fieldnames = header
    rows: list[ImportedReturn] = []
    first_line: dict[str, int] = {}  # order id -> the line that names it first
    count = 0
    try:
        for raw in reader:
            line = reader.line_num
            count += 1
            if count > MAX_ROWS:
                issues.append(ImportProblem(line=line, problem=f"more than {MAX_ROWS:,} returns; split the file"))
                break

            def bad(column: str, message: str, line: int = line) -> None:
                issues.append(ImportProblem(line=line, column=column, problem=message))

            if None in raw:  # more cells than the header names
                bad("", f"{len(raw[None])} cell(s) more than the header has")
            row = _parse_row(line, raw, bad, now)
            order = (raw.get("order_id") or "").strip()
            if order and order in first_line:
                bad("order_id", f"order {order[:60]} is also on line {first_line[order]}; one return per order")
                row = None
            elif order:
                first_line[order] = line
            if row and None not in raw:
                rows.append(row)
    except csv.Error as err:
        issues.append(ImportProblem(line=reader.line_num, problem=f"not a CSV file: {err}"))
    if not count and not issues:
        issues.append(ImportProblem(line=0, problem="the file has a header but no returns"))
    return ImportPreview(rows=rows, issues=issues, lines=count)


def check_open_returns(uow: UnitOfWork, preview: ImportPreview) -> ImportPreview:
    """The preview plus a problem for every line whose order already has an open return in this business."""
    orders = {r.order_id for r in preview.rows}
    if not orders:
        return preview
    open_orders = set(uow.session.scalars(
        select(ReturnRequest.order_id).where(
            ReturnRequest.business_id == uow.actor.business_id,
            ReturnRequest.order_id.in_(orders),
            ReturnRequest.status.in_(("pending_triage", "pending_review", "escalated")),
            ReturnRequest.is_test.is_(False),
        )
    ))
    clashes = [ImportProblem(line=r.line, column="order_id", problem=f"order {r.order_id} already has an open return")
               for r in preview.rows if r.order_id in open_orders]
    if not clashes:
        return preview
    return ImportPreview(rows=[r for r in preview.rows if r.order_id not in open_orders],
                         issues=sorted(preview.issues + clashes, key=lambda i: i.line), lines=preview.lines)


def import_returns(uow: UnitOfWork, preview: ImportPreview, *, file_name: str, progress: Progress | None = None,
                   chunk: int = 1000) -> int:
    """Write a checked file as pending_triage returns of the acting business; return how many.

    Everything happens in the caller's one transaction: a refusal or a failure part-way writes nothing.
    """
    role = uow.session.execute(sa_text("SELECT dokani.member_role(:b)"), {"b": uow.actor.business_id}).scalar()  # from Postgres, not the UI
    if role not in CAN_IMPORT:
        raise NotAllowed("Only owners and admins can import returns.")
    limits.check_text(file_name, "file name", 255)
    if not preview.ok:
        raise Invalid("The file has problems; nothing was imported.", {"file": _summary(preview.problems)})
    checked = check_open_returns(uow, preview)
    if checked.issues:
        raise Invalid("Some orders already have an open return; nothing was imported.",
                      {"file": _summary(checked.problems)})
    business = uow.actor.business_id
    total = len(preview.rows)
    now = datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)
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
    # Returns dated in the past are part of their customers' history: the later returns' stored counters move now.
    from dokani.triage.history import fill_history_counters

    fill_history_counters(uow, business, (r.customer_email for r in preview.rows))
    audit.record(uow, "import", "return_requests", file_name, None, {"returns": total, "file": file_name})
    return total


def _summary(problems: list[str], shown: int = 5) -> str:
    return "; ".join(problems[:shown]) + (f" (and {len(problems) - shown} more)" if len(problems) > shown else "")


TEMPLATE = (
    "order_id,customer_email,reason_for_return,created_at,order_value,product_category,days_since_purchase,evidence_urls\n"
    "ORD-1001,jane@example.com,The mug arrived cracked,2026-11-20 09:15,24.90,home,3,https://cdn.example.com/photo1.jpg\n"
)
