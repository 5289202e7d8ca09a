"""Snapshots: a week's or a month's KPIs kept in ``business_analytics``, each agent's decision quality in
``agent_performance_logs``, so the overview can show the trend over periods (and say which are missing).

One snapshot per business, kind and period: taking it again *replaces* it (delete and insert in one
transaction, serialised by an advisory lock; revision 0011's unique indexes make a duplicate impossible).
``metric_data.snapshot`` / ``performance_metrics.snapshot`` hold the key ``<kind>:<start>:<end>``; rows
without it (imported or seeded) are never touched.
"""
from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from typing import Literal
from uuid import UUID

from pydantic import BaseModel
from sqlalchemy import text

from db.uow import UnitOfWork
from dokani import audit
from dokani.analytics import agreement as people_vs_ai
from dokani.analytics.activity import activity
from dokani.analytics.kpis import Period, compared_kpis
from dokani.errors import Invalid, NotAllowed
from dokani.returns.queue import queue_kpis
from dokani.returns.rows import acting_business

Kind = Literal["week", "month"]
KINDS: tuple[str, ...] = ("week", "month")
EDITORS = ("owner", "admin")
METRIC_TYPES = ("return_kpis", "ai_agreement", "rule_overrides", "lab_and_calls")
AGENT_TYPE = "triage"


def period_of(kind: str, day: date) -> Period:
    """The calendar week (Monday first) or month that holds `day`."""
    if kind == "week":
        start = day - timedelta(days=day.weekday())
        end = start + timedelta(days=7)
    elif kind == "month":
        start = day.replace(day=1)
        end = (start + timedelta(days=32)).replace(day=1)
    else:
        raise Invalid(f"A snapshot period is a week or a month, not {kind!r}.", {"period": "week or month"})
    return Period(start=datetime.combine(start, time.min), end=datetime.combine(end, time.min))


def last_complete(kind: str, today: date | None = None) -> Period:
    today = today or datetime.utcnow().date()
    return period_of(kind, period_of(kind, today).start.date() - timedelta(days=1))


def recent_periods(kind: str, count: int, today: date | None = None) -> list[Period]:
    """The last `count` complete periods, oldest first."""
    periods = [last_complete(kind, today)]
    while len(periods) < count:
        periods.append(period_of(kind, periods[-1].start.date() - timedelta(days=1)))
    return periods[::-1]


def snapshot_key(kind: str, period: Period) -> str:
    return f"{kind}:{period.start.date().isoformat()}:{period.end.date().isoformat()}"


class SnapshotOutcome(BaseModel):
    business_id: UUID
    kind: str
    period: Period
    metrics: int
    agents: int
    replaced: bool

    def describe(self) -> str:
        verb = "replaced" if self.replaced else "written"
        return (f"{self.kind} {self.period.first_day} to {self.period.last_day}: {self.metrics} metric rows and "
                f"{self.agents} agent row(s) {verb}")


def _require_editor(uow: UnitOfWork, business_id: UUID) -> None:
    role = uow.session.execute(text("SELECT dokani.member_role(:b)"), {"b": business_id}).scalar()
    if role not in EDITORS:
        raise NotAllowed(f"Your role here is {role or 'none'}: only owners and admins take analytics snapshots.")


def _agent_rows(uow: UnitOfWork, business_id: UUID, period: Period) -> list:
    return uow.session.execute(
        text(
            f"""
            SELECT coalesce(r.triage_agent_id, 'unknown') AS agent, count(*) AS triaged,
                   count(*) FILTER (WHERE {people_vs_ai.PERSON_DECISION}) AS decisions,
                   count(*) FILTER (WHERE {people_vs_ai.PERSON_DECISION} AND {people_vs_ai.AI_PUSHED} IS NOT NULL)
                     AS pushed,
                   count(*) FILTER (WHERE {people_vs_ai.PERSON_DECISION}
                                      AND {people_vs_ai.PERSON_OUTCOME} = {people_vs_ai.AI_PUSHED}) AS agreed,
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY r.processing_time_ms) AS median_ms,
                   avg(r.customer_satisfaction_score) AS satisfaction
            FROM return_requests r
            WHERE {people_vs_ai.PERIOD_SQL} AND r.ai_recommendation IS NOT NULL
            GROUP BY 1 ORDER BY 1
            """
        ),
        {"b": business_id, "start": period.start, "end": period.end},
    ).all()


def take_snapshot(uow: UnitOfWork, kind: str, period: Period | None = None) -> SnapshotOutcome:
    """Write (or replace) the snapshot of `period` (default: the last complete `kind`) and commit."""
    period = period or last_complete(kind)
    if period_of(kind, period.first_day) != period:
        raise Invalid(f"{period.first_day} to {period.last_day} is not a calendar {kind}.", {"period": kind})
    business_id = acting_business(uow)
    _require_editor(uow, business_id)
    key = snapshot_key(kind, period)
    s = uow.session
    s.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"), {"k": f"{business_id}:{key}"})
    kpis, _ = compared_kpis(uow, period)
    metrics = {
        # waiting / overdue are a state: as they stood when the snapshot was taken (the Returns page's figures)
        "return_kpis": {**kpis.model_dump(mode="json"), "workload_at_snapshot": queue_kpis(uow).model_dump(mode="json")},
        "ai_agreement": people_vs_ai.agreement(uow, period).model_dump(mode="json"),
        "rule_overrides": people_vs_ai.rule_overrides(uow, period).model_dump(mode="json"),
        "lab_and_calls": activity(uow, period).model_dump(mode="json"),
    }
    params = {"b": business_id, "k": key}
    removed = s.execute(text("DELETE FROM business_analytics WHERE business_id = :b AND metric_data ->> 'snapshot' = :k"),
                        params).rowcount
    s.execute(text("DELETE FROM agent_performance_logs WHERE business_id = :b AND performance_metrics ->> 'snapshot' = :k"),
              params)
    for metric_type, data in metrics.items():
        s.execute(
            text("INSERT INTO business_analytics (business_id, metric_type, metric_data, period_start, period_end, "
                 "calculated_at) VALUES (:b, :t, CAST(:d AS jsonb), :s, :e, timezone('utc', now()))"),
            {"b": business_id, "t": metric_type, "s": period.start, "e": period.end,
             "d": json.dumps({"snapshot": key, "period": kind, **data})},
        )
    agents = _agent_rows(uow, business_id, period)
    for a in agents:
        quality = a.agreed / a.pushed if a.pushed else None
        s.execute(
            text("INSERT INTO agent_performance_logs (agent_type, business_id, performance_metrics, "
                 "decision_quality_score, response_time_ms, customer_satisfaction_score, created_at) "
                 "VALUES (:t, :b, CAST(:m AS jsonb), :q, :ms, :sat, timezone('utc', now()))"),
            {"t": AGENT_TYPE, "b": business_id, "q": quality,
             "ms": int(round(a.median_ms)) if a.median_ms is not None else None,
             "sat": float(a.satisfaction) if a.satisfaction is not None else None,
             "m": json.dumps({"snapshot": key, "period": kind, "period_start": period.start.isoformat(),
                              "period_end": period.end.isoformat(), "agent_id": a.agent, "triaged": a.triaged,
                              "person_decisions": a.decisions, "pushed": a.pushed, "agreed": a.agreed,
                              "small_sample": 0 < a.pushed < 10})},
        )
    audit.record(uow, "analytics.snapshot", "business_analytics", key, after={"metrics": len(metrics), "agents": len(agents),
                                                                             "replaced": bool(removed)})
    uow.commit()
    return SnapshotOutcome(business_id=business_id, kind=kind, period=period, metrics=len(metrics), agents=len(agents),
                           replaced=bool(removed))


class SnapshotPoint(BaseModel):
    period: Period
    present: bool
    opened: int | None = None
    approval_rate: float | None = None
    agreement: float | None = None
    agreement_n: int | None = None
    calculated_at: datetime | None = None


def snapshot_trend(uow: UnitOfWork, kind: str, count: int = 12, today: date | None = None) -> list[SnapshotPoint]:
    """The last `count` complete periods, oldest first, with their snapshot where one was taken."""
    periods = recent_periods(kind, count, today)
    rows = uow.session.execute(
        text(
            """
            SELECT metric_data ->> 'snapshot' AS key, metric_type, metric_data, calculated_at
            FROM business_analytics
            WHERE business_id = :b AND metric_type IN ('return_kpis', 'ai_agreement') AND metric_data ->> 'period' = :kind
              AND period_start >= :start AND period_end <= :end
            """
        ),
        {"b": acting_business(uow), "kind": kind, "start": periods[0].start, "end": periods[-1].end},
    ).all()
    found: dict[str, dict] = {}
    for r in rows:
        found.setdefault(r.key, {})[r.metric_type] = r.metric_data
        found[r.key]["at"] = r.calculated_at
    points = []
    for p in periods:
        got = found.get(snapshot_key(kind, p))
        if not got or "return_kpis" not in got:
            points.append(SnapshotPoint(period=p, present=False))
            continue
        k = got["return_kpis"]
        overall = (got.get("ai_agreement") or {}).get("overall") or {}
        points.append(SnapshotPoint(period=p, present=True, opened=k.get("opened"),
                                    approval_rate=(k.get("approval") or {}).get("value"),
                                    agreement=overall.get("value"), agreement_n=overall.get("n"),
                                    calculated_at=got.get("at")))
    return points
