"""What a reviewer asks the queue for, and the SQL it becomes.

``ReturnQueueFilter`` (and ``build_filter`` from form values) holds every filter; ``where_clauses`` turns it into
WHERE clauses over ``return_requests r``. The SQL expressions here (reason code, age, SLA state, sort keys, the
queue's columns) are shared by the queue, the CSV export and the review panel; ``reason_code_sql`` is also what
revision 0015 stores in ``return_requests.reason_code``.
"""
from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from dokani import limits
from dokani.errors import Invalid, field_problems
from dokani.returns.status import NEEDS_DECISION, STATUSES
from dokani.risk.profiles import RISK_BANDS
from dokani.triage.engine import REASON_KEYWORDS, reason_pattern

RiskBand = Literal["low", "medium", "high"]
SlaState = Literal["overdue", "due_soon", "on_time"]
SortKey = Literal["age", "risk", "value"]
Recommendation = Literal["auto_approve", "auto_deny", "human_review"]

# Any rule name (an adopted database's traces may name rules this engine does not know; it is a bound parameter),
# but no comma: the query string separates clauses with commas.
RULE_TRACE = re.compile(r"[^,]{1,100}:(pass|violation|flag|info)")
DUE_SOON_SHARE = 0.75  # a waiting return is "due soon" after 75 % of the SLA
REASON_CODES: tuple[str, ...] = tuple(code for code, _ in REASON_KEYWORDS) + ("other",)


class ReturnQueueFilter(BaseModel):
    """What the reviewer asked to see. Every field is applied in SQL."""

    model_config = ConfigDict(allow_inf_nan=False)  # NaN/Infinity would reach SQL; refused as input

    statuses: list[str] = Field(default_factory=lambda: list(NEEDS_DECISION))
    risk_bands: list[RiskBand] = Field(default_factory=list)
    categories: list[str] = Field(default_factory=list)
    reasons: list[str] = Field(default_factory=list, description="reason codes, as the triage engine reads them")
    min_value: float | None = Field(None, ge=0, le=limits.MAX_DECIMAL)
    max_value: float | None = Field(None, ge=0, le=limits.MAX_DECIMAL)
    created_from: date | None = None
    created_to: date | None = Field(None, description="inclusive")
    sla_states: list[SlaState] = Field(default_factory=list)
    search: str | None = Field(None, max_length=200, description="substring of order id, customer email or public id")
    sort: SortKey = "age"
    descending: bool | None = Field(None, description="default: oldest first for age, highest first for risk and value")
    sla_hours: float = Field(48.0, gt=0, le=24 * 365)
    # Drill-downs from the overview (issue 10): the AI's recommendation, decided by a person, a clause of the trace.
    recommendations: list[Recommendation] = Field(default_factory=list)
    decided_by_person: bool = False
    rule_trace: list[str] = Field(default_factory=list, max_length=5,
                                  description="'rule:outcome' clauses the stored rule trace must hold")

    @field_validator("created_from", "created_to")
    @classmethod
    def _sane_date(cls, value: date | None) -> date | None:
        if value is not None and not (limits.EARLIEST <= value <= limits.LATEST):  # date.max + 1 day overflows
            raise ValueError(f"dates must be between {limits.EARLIEST} and {limits.LATEST}")
        return value

    @field_validator("search", "statuses", "categories", "reasons")
    @classmethod
    def _storable_text(cls, value):
        for item in [value] if isinstance(value, str) else (value or []):
            if (problem := limits.text_problem(item, limits.MAX_SEARCH)) is not None:
                raise ValueError(f"the search {problem}" if isinstance(value, str) else f"a choice {problem}")
        return value

    @model_validator(mode="after")
    def _ranges(self) -> "ReturnQueueFilter":
        if self.min_value is not None and self.max_value is not None and self.min_value > self.max_value:
            raise ValueError("the lowest order value is above the highest")
        if self.created_from and self.created_to and self.created_from > self.created_to:
            raise ValueError("the start date is after the end date")
        for clause in self.rule_trace:
            if not RULE_TRACE.fullmatch(clause):
                raise ValueError(f"{clause[:60]!r} is not a rule clause (rule:outcome)")
        return self

    @property
    def is_descending(self) -> bool:
        return self.descending if self.descending is not None else self.sort != "age"


def build_filter(**values: Any) -> ReturnQueueFilter:
    """A filter from form values; wrong input becomes `Invalid` with one message per field."""
    try:
        return ReturnQueueFilter(**values)
    except (ValidationError, TypeError) as err:
        if isinstance(err, TypeError):
            raise Invalid("Some filters are not valid.", {"filter": str(err)}) from None
        problems = field_problems(err, "filter")
        raise Invalid("Some filters are not valid: " + "; ".join(problems.values()), problems) from None


def _quote(literal: str) -> str:
    return "'" + literal.replace("'", "''") + "'"


def text_array(values) -> str:
    """The code's own constants (statuses) as an SQL array literal: the planner can then match partial indexes
    whatever plan it caches. Never for typed text."""
    return "ARRAY[" + ", ".join(_quote(v) for v in values) + "]"


def reason_code_sql(column: str = "r.reason_for_return") -> str:
    """The engine's reason classification (``dokani.triage.engine.classify_reason``) as one SQL expression."""
    lowered = f"lower(coalesce({column}, ''))"
    whens = []
    for code, phrases in REASON_KEYWORDS:
        test = f"{lowered} ~ {_quote(reason_pattern(phrases))}"
        whens.append(f"WHEN {test} THEN {_quote(code)}")
    return "CASE " + " ".join(whens) + " ELSE 'other' END"


REASON_SQL = reason_code_sql()
AGE_HOURS = "extract(epoch FROM (timezone('utc', now()) - r.created_at)) / 3600.0"
SORT_SQL = {
    "age": "coalesce(r.created_at, TIMESTAMP '1970-01-01')",
    "risk": "coalesce(r.risk_score, 0)",
    "value": "coalesce(r.order_value, 0)",
}
SORT_CAST = {"age": "timestamp", "risk": "numeric", "value": "numeric"}

SLA_SQL = (
    f"CASE WHEN r.status = ANY(ARRAY['pending_triage', 'pending_review', 'escalated']) THEN "
    f"CASE WHEN {AGE_HOURS} >= :sla_hours THEN 'overdue' WHEN {AGE_HOURS} >= :due_soon THEN 'due_soon' "
    f"ELSE 'on_time' END ELSE 'closed' END"
)

# A person decided it (``decide_return`` stamps ``admin_decision_at``; the engine's own decisions do not).
PERSON_DECIDED_SQL = "r.admin_decision_at IS NOT NULL"
# The rule trace the triage engine stores (``triage_details.rules_fired``): a clause with this rule and outcome.
RULES_FIRED_SQL = "r.triage_details -> 'rules_fired'"


def rule_clause_json(clause: str) -> str:
    """``'rule:outcome'`` as the JSON a trace containing that clause holds (for ``@>``)."""
    rule, outcome = clause.rsplit(":", 1)
    return json.dumps([{"rule": rule, "outcome": outcome}])


# A return's risk is a measurement only once the engine has triaged it (the column's default, 0.5, is not one).
IS_SCORED = "(r.ai_recommendation IS NOT NULL OR r.triage_details IS NOT NULL)"
SCORED_RISK = f"CASE WHEN {IS_SCORED} THEN r.risk_score END"

ROW_COLUMNS = f"""
    r.id, r.public_id, r.created_at, r.status, r.order_id, r.customer_email, r.reason_for_return,
    r.product_category, coalesce(r.order_value, 0) AS order_value, ({SCORED_RISK}) AS risk_score,
    r.ai_recommendation, r.ai_confidence, r.policy_version_used, r.admin_notes, r.admin_decision_at,
    r.reason_code, {AGE_HOURS} AS age_hours, ({SLA_SQL}) AS sla_state,
    CAST(r.xmin AS text) AS version
"""


def _like_pattern(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def where_clauses(business_id: UUID, f: ReturnQueueFilter) -> tuple[list[str], dict[str, Any]]:
    """The filter as WHERE clauses over ``return_requests r`` of one business (live returns only), and their parameters."""
    clauses = ["r.business_id = :business_id"]
    params: dict[str, Any] = {"business_id": business_id, "sla_hours": f.sla_hours, "due_soon": f.sla_hours * DUE_SOON_SHARE}
    clauses.append("NOT r.is_test")  # chat-lab test returns never reach the live queue (revision 0005)
    if f.statuses and set(f.statuses) <= set(STATUSES):
        # Known statuses inline, so the planner can match partial indexes (the waiting queue's, revision 0013)
        # whatever plan it caches; they are the code's own constants, never typed text.
        clauses.append(f"r.status = ANY({text_array(sorted(f.statuses))})")
    elif f.statuses:
        clauses.append("r.status = ANY(:statuses)")
        params["statuses"] = list(f.statuses)
    if f.risk_bands:
        parts = []
        for band in f.risk_bands:
            low, high = RISK_BANDS[band]
            # in thousandths (revision 0027: an integer the planner may compare inside an index scan under
            # row-level security; a numeric comparison it may not), exactly the same bounds
            parts.append(f"(r.risk_milli >= {round(low * 1000)}"
                         + (f" AND r.risk_milli < {round(high * 1000)})" if high else ")"))
        clauses.append(f"{IS_SCORED} AND (" + " OR ".join(parts) + ")")  # a never-triaged return is in no band
    if f.categories:
        clauses.append("r.product_category = ANY(:categories)")
        params["categories"] = list(f.categories)
    if f.reasons:
        clauses.append("r.reason_code = ANY(:reasons)")  # the stored column (revision 0015), indexed
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
        clauses.append(f"({SLA_SQL}) = ANY(:sla_states)")
        params["sla_states"] = list(f.sla_states)
    if f.recommendations:
        clauses.append("r.ai_recommendation = ANY(:recommendations)")
        params["recommendations"] = list(f.recommendations)
    if f.decided_by_person:
        clauses.append(PERSON_DECIDED_SQL)
    for i, clause in enumerate(f.rule_trace):
        clauses.append(f"{RULES_FIRED_SQL} @> CAST(:trace_{i} AS jsonb)")
        params[f"trace_{i}"] = rule_clause_json(clause)
    term = (f.search or "").strip()
    if term:
        params["pattern"] = _like_pattern(term.lower())
        # The match runs in dokani.search_return_ids (revisions 0013, 0023): under row-level security LIKE cannot
        # use the trigram indexes; the function checks membership, then matches with them, among the statuses
        # shown only (a common name matches thousands of returns, a few of them waiting).
        params["search_statuses"] = sorted(f.statuses) if f.statuses else None
        clauses.append("r.id IN (SELECT dokani.search_return_ids(:business_id, :pattern, "
                       "CAST(:search_statuses AS text[])))")
    return clauses, params
