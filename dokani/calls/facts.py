"""The Calls page's and the Overview's call figures, read from ``call_facts`` (revision 0019).

``call_facts`` holds one row per call with its business (``call_sessions`` has none: it follows the persona, chat
session and conversation the call names), the columns the page filters on and what it reads of the call's latest
``call_analytics`` row, its link to a return and its conversation's escalation. Statement triggers on the call
tables keep it current in the writer's own transaction, so each figure here is one indexed read of a business's
calls in the period instead of a walk through every call's analytics under row-level security.

The same figures straight from the call tables are ``dokani.calls.analytics`` (summary, per day, per persona, the
list) and ``dokani.calls.outcomes``; the tests hold the two equal.
"""
from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import text

from db.uow import UnitOfWork
from dokani.calls.analytics import CallFilter, CallPage, CallRow, CallSummary, summary_of
from dokani.calls.outcomes import CostLine, OutcomeSummary
from dokani.returns.rows import acting_business

ESCALATED = "(f.resolution = 'escalated' OR f.conversation_escalated)"


def facts_where(uow: UnitOfWork, f: CallFilter) -> tuple[str, dict[str, Any]]:
    """The filter over ``call_facts f``: the business explicitly (row-level security stays the guard), the period."""
    clauses = ["f.business_id = :b", "f.created_at >= :start", "f.created_at < :end"]
    params: dict[str, Any] = {"b": acting_business(uow), "start": f.period.start, "end": f.period.end}
    for column in ("provider", "call_type", "status"):
        value = getattr(f, column)
        if value:
            clauses.append(f"f.{column} = :{column}")
            params[column] = value
    if f.persona_id:
        clauses.append("f.persona_config_id = :persona_id")
        params["persona_id"] = f.persona_id
    if f.evaluation:  # any of the call's analytics rows said so, as the page always counted it
        clauses.append("CAST(:evaluation AS text) = ANY (f.evaluations)")
        params["evaluation"] = f.evaluation
    return " AND ".join(clauses), params


def call_summary(uow: UnitOfWork, f: CallFilter) -> CallSummary:
    where, params = facts_where(uow, f)
    r = uow.session.execute(
        text(
            f"""
            SELECT count(*) AS calls,
                   count(*) FILTER (WHERE f.status = 'completed') AS completed,
                   coalesce(sum(f.duration_seconds), 0) / 60.0 AS minutes,
                   avg(f.duration_seconds) FILTER (WHERE f.duration_seconds > 0) AS avg_duration,
                   avg(f.call_quality_score) AS quality,
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY f.latency_p50_ms) AS p50,
                   percentile_cont(0.95) WITHIN GROUP (ORDER BY f.latency_p95_ms) AS p95,
                   count(*) FILTER (WHERE f.resolution = 'resolved') AS resolved,
                   count(*) FILTER (WHERE f.has_resolution) AS with_resolution,
                   avg(f.sentiment) AS sentiment,
                   count(*) FILTER (WHERE f.has_analytics) AS with_analytics
            FROM call_facts f WHERE {where}
            """
        ),
        params,
    ).one()

    return summary_of(r)


def calls_per_day(uow: UnitOfWork, f: CallFilter) -> pd.DataFrame:
    where, params = facts_where(uow, f)
    rows = uow.session.execute(
        text(
            f"""
            SELECT date_trunc('day', f.created_at)::date AS day, f.provider, count(*) AS calls,
                   avg(f.call_quality_score)::float AS avg_quality
            FROM call_facts f WHERE {where} GROUP BY 1, 2 ORDER BY 1, 2
            """
        ),
        params,
    ).all()
    return pd.DataFrame(rows, columns=["day", "provider", "calls", "avg_quality"])


def quality_by_persona(uow: UnitOfWork, f: CallFilter) -> pd.DataFrame:
    where, params = facts_where(uow, f)
    rows = uow.session.execute(
        text(
            f"""
            SELECT coalesce(p.config_name, 'no persona') AS persona, f.provider, count(*) AS calls,
                   round(avg(f.call_quality_score), 2)::float AS avg_quality,
                   round(avg(f.duration_seconds))::int AS avg_duration_s,
                   count(*) FILTER (WHERE f.status = 'completed') AS completed
            FROM call_facts f LEFT JOIN provider_configs p ON p.id = f.persona_config_id
            WHERE {where} GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2
            """
        ),
        params,
    ).all()
    return pd.DataFrame(rows, columns=["persona", "provider", "calls", "avg_quality", "avg_duration_s", "completed"])


def list_calls(uow: UnitOfWork, f: CallFilter, after=None, limit: int = 25) -> CallPage:
    """Newest first, keyset-paginated on (created_at, id)."""
    where, params = facts_where(uow, f)
    if after is not None:
        where += " AND (f.created_at, f.call_id) < (:after_at, :after_id)"
        params.update(after_at=after[0], after_id=after[1])
    params["limit"] = limit + 1
    rows = uow.session.execute(
        text(
            f"""
            SELECT f.call_id AS id, f.created_at, f.call_type, f.provider, f.status, f.duration_seconds,
                   f.call_quality_score, p.config_name AS persona, f.resolution
            FROM call_facts f LEFT JOIN provider_configs p ON p.id = f.persona_config_id
            WHERE {where} ORDER BY f.created_at DESC, f.call_id DESC LIMIT :limit
            """
        ),
        params,
    ).mappings().all()
    calls = [CallRow(**r) for r in rows[:limit]]
    cursor = (calls[-1].created_at, calls[-1].id) if len(rows) > limit else None
    return CallPage(rows=calls, next_cursor=cursor)


def outcome_summary(uow: UnitOfWork, f: CallFilter) -> OutcomeSummary:
    """Provider evaluation, duration, escalations, links to returns and cost per unit of the calls `f` selects."""
    where, params = facts_where(uow, f)
    r = uow.session.execute(
        text(f"""
            SELECT count(*) AS calls,
                   count(*) FILTER (WHERE f.evaluation IN ('success', 'failure')) AS evaluated,
                   count(*) FILTER (WHERE f.evaluation = 'success') AS successful,
                   coalesce(sum(f.duration_seconds), 0)::int AS total_duration,
                   avg(f.duration_seconds) FILTER (WHERE f.duration_seconds > 0)::float AS avg_duration,
                   count(*) FILTER (WHERE {ESCALATED}) AS escalated,
                   count(*) FILTER (WHERE f.has_resolution) AS with_resolution,
                   count(*) FILTER (WHERE f.linked) AS linked
            FROM call_facts f WHERE {where}
        """), params).one()
    costs = uow.session.execute(
        text(f"""
            SELECT f.cost_unit AS unit, sum(f.cost)::float AS total, count(*) AS calls
            FROM call_facts f WHERE {where} AND f.cost IS NOT NULL GROUP BY 1 ORDER BY 1
        """), params).mappings().all()
    return OutcomeSummary(calls=r.calls, evaluated=r.evaluated, successful=r.successful,
                          total_duration_s=r.total_duration, avg_duration_s=r.avg_duration, escalated=r.escalated,
                          with_resolution=r.with_resolution, linked=r.linked, costs=[CostLine(**c) for c in costs])


def criteria_pass_rates(uow: UnitOfWork, f: CallFilter) -> pd.DataFrame:
    """Per persona and evaluation criterion: calls judged, passed, pass rate."""
    where, params = facts_where(uow, f)
    rows = uow.session.execute(
        text(f"""
            SELECT coalesce(p.config_name, 'no persona') AS persona, e.key AS criterion,
                   count(*) FILTER (WHERE e.value IN ('success', 'failure')) AS judged,
                   count(*) FILTER (WHERE e.value = 'success') AS passed
            FROM call_facts f
            LEFT JOIN provider_configs p ON p.id = f.persona_config_id
            CROSS JOIN LATERAL jsonb_each_text(f.criteria) e
            WHERE {where} AND f.criteria IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2
        """), params).all()
    df = pd.DataFrame(rows, columns=["persona", "criterion", "judged", "passed"])
    df["pass_rate"] = (df["passed"] / df["judged"].where(df["judged"] > 0)).astype(float)
    return df


def volume_by_outcome(uow: UnitOfWork, f: CallFilter) -> pd.DataFrame:
    where, params = facts_where(uow, f)
    rows = uow.session.execute(
        text(f"""
            SELECT coalesce(f.resolution, f.status, 'unknown') AS outcome, f.provider, count(*) AS calls
            FROM call_facts f WHERE {where} GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2
        """), params).all()
    return pd.DataFrame(rows, columns=["outcome", "provider", "calls"])


def duration_distribution(uow: UnitOfWork, f: CallFilter, bucket_s: int = 60) -> pd.DataFrame:
    where, params = facts_where(uow, f)
    params["w"] = bucket_s
    rows = uow.session.execute(
        text(f"""
            SELECT (f.duration_seconds / :w) * :w AS from_s, count(*) AS calls
            FROM call_facts f WHERE {where} AND f.duration_seconds IS NOT NULL GROUP BY 1 ORDER BY 1
        """), params).all()
    df = pd.DataFrame(rows, columns=["from_s", "calls"])
    df["minutes"] = [f"{int(s) // 60}–{int(s) // 60 + bucket_s // 60} min" for s in df["from_s"]]
    return df
