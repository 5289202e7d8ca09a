"""People vs. the AI: how often reviewers agree with the triage engine, and which rule they overrule.

A *person's decision* is a return approved, denied or completed with ``admin_decision_at`` set (``decide_return``
stamps it; the engine's own decisions do not), among the returns asked in the period. The AI *pushed* an outcome
when it recommended ``auto_approve`` (approve) or ``auto_deny`` (deny); ``human_review`` pushes none, so those
decisions are counted but stand outside the agreement rate.

Override by rule reads the stored rule trace (``triage_details.rules_fired``): a ``pass`` clause pushes towards
approval, a ``violation`` towards denial (``flag`` and ``info`` push neither way). A person overrode the rule when
they decided the other way. Returns without a stored trace are counted, not guessed.
"""
from __future__ import annotations

import pandas as pd
from pydantic import BaseModel
from sqlalchemy import text

from db.uow import UnitOfWork
from dokani.analytics.kpis import Period, Rate
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
    return {"b": acting_business(uow), "start": period.start, "end": period.end}


def agreement(uow: UnitOfWork, period: Period) -> Agreement:
    rows = uow.session.execute(
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
    found = {r.rec: r for r in rows}
    by_rec = []
    for rec in RECOMMENDATIONS:
        r = found.get(rec)
        n, approved, denied, agreed = (r.decisions, r.approved, r.denied, r.agreed) if r else (0, 0, 0, 0)
        by_rec.append(RecommendationAgreement(
            recommendation=rec, decisions=n, approved=approved, denied=denied,
            agreement=None if rec == "human_review" else Rate(hits=agreed, n=n),
        ))
    pushed = [a for a in by_rec if a.agreement is not None]
    return Agreement(
        person_decisions=sum(r.decisions for r in rows),
        overall=Rate(hits=sum(a.agreement.hits for a in pushed), n=sum(a.agreement.n for a in pushed)),
        by_recommendation=by_rec,
    )


def rule_overrides(uow: UnitOfWork, period: Period) -> RuleOverrides:
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
    rules = [RuleOverride(rule=r.rule, outcome=r.outcome, pushed=r.pushed, overrides=Rate(hits=r.overridden, n=r.n))
             for r in rows]
    rules.sort(key=lambda x: (-(x.overrides.value or 0), -x.overrides.n, x.rule))
    return RuleOverrides(rules=rules, traced_decisions=traced, untraced_decisions=untraced)


def weekly_trend(uow: UnitOfWork, period: Period) -> pd.DataFrame:
    """Per week (Monday) of the period: person decisions, agreement with the AI where it pushed an outcome."""
    rows = uow.session.execute(
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
    frame = pd.DataFrame(rows, columns=["week", "decisions", "pushed", "agreed"])
    frame["overrode"] = frame["pushed"] - frame["agreed"]  # decided against the AI's approve / deny
    frame["agreement"] = [a / p if p else None for a, p in zip(frame["agreed"], frame["pushed"])]
    frame["small_sample"] = [0 < p < 10 for p in frame["pushed"]]
    return frame
