"""People vs. the AI: how often reviewers agree with the triage engine, and which rule they overrule.

A *person's decision* is a return approved, denied or completed with ``admin_decision_at`` set (``decide_return``
stamps it; the engine's own decisions do not), among the returns asked in the period. The AI *pushed* an outcome
when it recommended ``auto_approve`` (approve) or ``auto_deny`` (deny); ``human_review`` pushes none, so those
decisions are counted but stand outside the agreement rate.

Override by rule reads the stored rule trace (``triage_details.rules_fired``): a ``pass`` clause pushes towards
approval, a ``violation`` towards denial (``flag`` and ``info`` push neither way). A person overrode the rule when
they decided the other way. Returns without a stored trace are counted, not guessed.

For whole UTC days the figures are sums of ``return_daily_summary`` and ``return_rule_daily_summary`` (revision
0019, kept current by Postgres in every writer's transaction); any other period is recomputed from the returns
(``*_from_returns``).
"""
from __future__ import annotations

import pandas as pd
from pydantic import BaseModel
from sqlalchemy import text

from db.uow import UnitOfWork
from dokani.analytics.kpis import Period, Rate, whole_days
from dokani.returns.filters import PERSON_DECIDED_SQL, RULES_FIRED_SQL
from dokani.returns.rows import acting_business

PERSON_DECISION = f"{PERSON_DECIDED_SQL} AND r.status IN ('approved', 'denied', 'completed')"
PERSON_OUTCOME = "CASE WHEN r.status = 'denied' THEN 'deny' ELSE 'approve' END"
AI_PUSHED = "CASE r.ai_recommendation WHEN 'auto_approve' THEN 'approve' WHEN 'auto_deny' THEN 'deny' END"
RULE_PUSHED = "CASE c ->> 'outcome' WHEN 'pass' THEN 'approve' WHEN 'violation' THEN 'deny' END"
PERIOD_SQL = "r.business_id = :b AND NOT r.is_test AND r.created_at >= :start AND r.created_at < :end"
RECOMMENDATIONS = ("auto_approve", "auto_deny", "human_review")


class RecommendationAgreement(BaseModel):
    recommendation: str
    decisions: int  # by a person, on returns the AI recommended this for
    approved: int
    denied: int
    agreement: Rate | None  # None for human_review: the AI pushed no outcome


class Agreement(BaseModel):
    person_decisions: int
    overall: Rate  # agreed / person decisions where the AI pushed an outcome
    by_recommendation: list[RecommendationAgreement]


class RuleOverride(BaseModel):
    rule: str
    outcome: str  # the clause's outcome in the trace: pass | violation
    pushed: str  # approve | deny
    overrides: Rate  # decisions against `pushed` / person decisions on returns with this clause


class RuleOverrides(BaseModel):
    rules: list[RuleOverride]
    traced_decisions: int  # person decisions on returns with a stored rule trace
    untraced_decisions: int


def _params(uow: UnitOfWork, period: Period) -> dict:
    return {"b": acting_business(uow), "start": period.start, "end": period.end,
            "start_day": period.start.date(), "end_day": period.end.date()}


# Over the summaries: `s` a row of return_daily_summary, its recommendation standing for the return's.
SUMMARY_PERIOD = "s.business_id = :b AND s.day >= :start_day AND s.day < :end_day"
SUMMARY_DECISION = "s.person_decided AND s.status IN ('approved', 'denied', 'completed')"
SUMMARY_OUTCOME = "CASE WHEN s.status = 'denied' THEN 'deny' ELSE 'approve' END"
SUMMARY_AI_PUSHED = "CASE s.recommendation WHEN 'auto_approve' THEN 'approve' WHEN 'auto_deny' THEN 'deny' END"


def agreement(uow: UnitOfWork, period: Period) -> Agreement:
    if not whole_days(period):
        return _agreement(agreement_rows_from_returns(uow, period))
    rows = uow.session.execute(
        text(
            f"""
            SELECT coalesce(s.recommendation, 'not_triaged') AS rec, sum(s.returns) AS decisions,
                   coalesce(sum(s.returns) FILTER (WHERE {SUMMARY_OUTCOME} = 'approve'), 0) AS approved,
                   coalesce(sum(s.returns) FILTER (WHERE {SUMMARY_OUTCOME} = 'deny'), 0) AS denied,
                   coalesce(sum(s.returns) FILTER (WHERE {SUMMARY_OUTCOME} = {SUMMARY_AI_PUSHED}), 0) AS agreed
            FROM return_daily_summary s
            WHERE {SUMMARY_PERIOD} AND {SUMMARY_DECISION}
            GROUP BY 1 HAVING sum(s.returns) > 0
            """
        ),
        _params(uow, period),
    ).all()
    return _agreement(rows)


def agreement_rows_from_returns(uow: UnitOfWork, period: Period) -> list:
    return uow.session.execute(
        text(
            f"""
            SELECT coalesce(r.ai_recommendation, 'not_triaged') AS rec, count(*) AS decisions,
                   count(*) FILTER (WHERE {PERSON_OUTCOME} = 'approve') AS approved,
                   count(*) FILTER (WHERE {PERSON_OUTCOME} = 'deny') AS denied,
                   count(*) FILTER (WHERE {PERSON_OUTCOME} = {AI_PUSHED}) AS agreed
            FROM return_requests r
            WHERE {PERIOD_SQL} AND {PERSON_DECISION}
            GROUP BY 1
            """
        ),
        _params(uow, period),
    ).all()


def _agreement(rows: list) -> Agreement:
    found = {r.rec: r for r in rows}
    by_rec = []
    for rec in RECOMMENDATIONS:
        r = found.get(rec)
        n, approved, denied, agreed = (int(r.decisions), int(r.approved), int(r.denied), int(r.agreed)) if r else (0, 0, 0, 0)
        by_rec.append(RecommendationAgreement(
            recommendation=rec, decisions=n, approved=approved, denied=denied,
            agreement=None if rec == "human_review" else Rate(hits=agreed, n=n),
        ))
    pushed = [a for a in by_rec if a.agreement is not None]
    return Agreement(
        person_decisions=sum(int(r.decisions) for r in rows),
        overall=Rate(hits=sum(a.agreement.hits for a in pushed), n=sum(a.agreement.n for a in pushed)),
        by_recommendation=by_rec,
    )


def rule_overrides(uow: UnitOfWork, period: Period) -> RuleOverrides:
    if not whole_days(period):
        return rule_overrides_from_returns(uow, period)
    params = _params(uow, period)
    rows = uow.session.execute(
        text(
            f"""
            SELECT s.rule, s.outcome, {RULE_PUSHED.replace("c ->> 'outcome'", "s.outcome")} AS pushed,
                   sum(s.returns) AS n,
                   coalesce(sum(s.returns) FILTER (
                     WHERE s.person_outcome <> {RULE_PUSHED.replace("c ->> 'outcome'", "s.outcome")}), 0) AS overridden
            FROM return_rule_daily_summary s
            WHERE {SUMMARY_PERIOD}
            GROUP BY 1, 2, 3 HAVING sum(s.returns) > 0
            """
        ),
        params,
    ).all()
    traced, untraced = uow.session.execute(
        text(
            f"""
            SELECT coalesce(sum(s.returns) FILTER (WHERE s.traced), 0), coalesce(sum(s.returns) FILTER (WHERE NOT s.traced), 0)
            FROM return_daily_summary s WHERE {SUMMARY_PERIOD} AND {SUMMARY_DECISION}
            """
        ),
        params,
    ).one()
    return _rule_overrides(rows, int(traced), int(untraced))


def rule_overrides_from_returns(uow: UnitOfWork, period: Period) -> RuleOverrides:
    params = _params(uow, period)
    rows = uow.session.execute(
        text(
            f"""
            SELECT c ->> 'rule' AS rule, c ->> 'outcome' AS outcome, {RULE_PUSHED} AS pushed,
                   count(DISTINCT r.id) AS n,
                   count(DISTINCT r.id) FILTER (WHERE {PERSON_OUTCOME} <> {RULE_PUSHED}) AS overridden
            FROM return_requests r
            CROSS JOIN LATERAL jsonb_array_elements({RULES_FIRED_SQL}) AS c
            WHERE {PERIOD_SQL} AND {PERSON_DECISION} AND jsonb_typeof({RULES_FIRED_SQL}) = 'array'
              AND c ->> 'outcome' IN ('pass', 'violation') AND c ->> 'rule' IS NOT NULL
            GROUP BY 1, 2, 3
            """
        ),
        params,
    ).all()
    traced, untraced = uow.session.execute(
        text(
            f"""
            SELECT count(*) FILTER (WHERE jsonb_typeof({RULES_FIRED_SQL}) = 'array'),
                   count(*) FILTER (WHERE jsonb_typeof({RULES_FIRED_SQL}) IS DISTINCT FROM 'array')
            FROM return_requests r WHERE {PERIOD_SQL} AND {PERSON_DECISION}
            """
        ),
        params,
    ).one()
    return _rule_overrides(rows, traced, untraced)


def _rule_overrides(rows: list, traced: int, untraced: int) -> RuleOverrides:
    rules = [RuleOverride(rule=r.rule, outcome=r.outcome, pushed=r.pushed,
                          overrides=Rate(hits=int(r.overridden), n=int(r.n))) for r in rows]
    rules.sort(key=lambda x: (-(x.overrides.value or 0), -x.overrides.n, x.rule))
    return RuleOverrides(rules=rules, traced_decisions=traced, untraced_decisions=untraced)


WEEKS = """
  SELECT generate_series(date_trunc('week', CAST(:start AS timestamp)),
                         CAST(:end AS timestamp) - interval '1 microsecond', interval '1 week') AS week
"""


def weekly_trend(uow: UnitOfWork, period: Period) -> pd.DataFrame:
    """Per week (Monday) of the period: person decisions, agreement with the AI where it pushed an outcome."""
    if not whole_days(period):
        return _weekly(weekly_rows_from_returns(uow, period))
    rows = uow.session.execute(
        text(
            f"""
            WITH weeks AS ({WEEKS}), d AS (
              SELECT date_trunc('week', CAST(s.day AS timestamp)) AS week, sum(s.returns) AS decisions,
                     coalesce(sum(s.returns) FILTER (WHERE {SUMMARY_AI_PUSHED} IS NOT NULL), 0) AS pushed,
                     coalesce(sum(s.returns) FILTER (WHERE {SUMMARY_OUTCOME} = {SUMMARY_AI_PUSHED}), 0) AS agreed
              FROM return_daily_summary s WHERE {SUMMARY_PERIOD} AND {SUMMARY_DECISION} GROUP BY 1
            )
            SELECT w.week::date AS week, coalesce(d.decisions, 0)::bigint AS decisions,
                   coalesce(d.pushed, 0)::bigint AS pushed, coalesce(d.agreed, 0)::bigint AS agreed
            FROM weeks w LEFT JOIN d ON d.week = w.week ORDER BY 1
            """
        ),
        _params(uow, period),
    ).all()
    return _weekly(rows)


def weekly_rows_from_returns(uow: UnitOfWork, period: Period) -> list:
    return uow.session.execute(
        text(
            f"""
            WITH weeks AS (
              SELECT generate_series(date_trunc('week', CAST(:start AS timestamp)),
                                     CAST(:end AS timestamp) - interval '1 microsecond', interval '1 week') AS week
            ), d AS (
              SELECT date_trunc('week', r.created_at) AS week, count(*) AS decisions,
                     count(*) FILTER (WHERE {AI_PUSHED} IS NOT NULL) AS pushed,
                     count(*) FILTER (WHERE {PERSON_OUTCOME} = {AI_PUSHED}) AS agreed
              FROM return_requests r WHERE {PERIOD_SQL} AND {PERSON_DECISION} GROUP BY 1
            )
            SELECT w.week::date AS week, coalesce(d.decisions, 0) AS decisions, coalesce(d.pushed, 0) AS pushed,
                   coalesce(d.agreed, 0) AS agreed
            FROM weeks w LEFT JOIN d ON d.week = w.week ORDER BY 1
            """
        ),
        _params(uow, period),
    ).all()


def _weekly(rows: list) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["week", "decisions", "pushed", "agreed"])
    frame["overrode"] = frame["pushed"] - frame["agreed"]  # decided against the AI's approve / deny
    frame["agreement"] = [a / p if p else None for a, p in zip(frame["agreed"], frame["pushed"])]
    frame["small_sample"] = [0 < p < 10 for p in frame["pushed"]]
    return frame
