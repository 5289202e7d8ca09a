"""The overview's figures beside the returns: persona suite pass rate, call success, calls linked to a return.

- suite pass rate: scenario results (``persona_test_logs``, ``test_type = 'scenario'``) run in the period that passed.
- call success: calls started in the period whose status is ``completed``. A call belongs to a business through
  its persona or its chat session (``call_sessions`` has no ``business_id``); both are named explicitly here.
- open security events: unresolved now (a state; the Risk page lists them).
- calls linked to a return: only where ``call_sessions`` has a ``return_request_id`` column (the calls issue adds
  it); without one the figure is *not available*, never estimated.
"""
from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy import text

from db.uow import UnitOfWork
from dokani.analytics.kpis import Period, Rate
from dokani.lab.suites import TEST_TYPE
from dokani.returns.rows import acting_business

CALL_OF_BUSINESS = (
    "(c.persona_config_id IN (SELECT id FROM provider_configs WHERE business_id = :b) "
    "OR c.chat_session_id IN (SELECT id FROM chat_sessions WHERE business_id = :b))"
)


class Activity(BaseModel):
    suite_pass: Rate
    call_success: Rate
    calls_linked: Rate | None  # None: the database cannot link calls to returns (no column)
    open_security_events: int  # a state, not a flow: unresolved now, whatever the period


def calls_can_link_returns(uow: UnitOfWork) -> bool:
    return bool(uow.session.execute(text(
        "SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = 'public' "
        "AND table_name = 'call_sessions' AND column_name = 'return_request_id')")).scalar())


def activity(uow: UnitOfWork, period: Period) -> Activity:
    params = {"b": acting_business(uow), "start": period.start, "end": period.end, "t": TEST_TYPE}
    passed, runs = uow.session.execute(
        text(
            "SELECT count(*) FILTER (WHERE l.success), count(*) FROM persona_test_logs l "
            "WHERE l.business_id = :b AND l.test_type = :t AND l.created_at >= :start AND l.created_at < :end"
        ),
        params,
    ).one()
    linkable = calls_can_link_returns(uow)
    linked_sql = "count(*) FILTER (WHERE c.return_request_id IS NOT NULL)" if linkable else "0"
    completed, calls, linked = uow.session.execute(
        text(
            f"SELECT count(*) FILTER (WHERE c.status = 'completed'), count(*), {linked_sql} FROM call_sessions c "
            f"WHERE {CALL_OF_BUSINESS} AND c.created_at >= :start AND c.created_at < :end"
        ),
        params,
    ).one()
    events = uow.session.execute(
        text("SELECT count(*) FROM security_events WHERE business_id = :b AND NOT coalesce(resolved, false)"), params
    ).scalar()
    return Activity(suite_pass=Rate(hits=passed, n=runs), call_success=Rate(hits=completed, n=calls),
                    calls_linked=Rate(hits=linked, n=calls) if linkable else None, open_security_events=int(events))
