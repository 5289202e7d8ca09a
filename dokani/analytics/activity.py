"""The overview's figures beside the returns: persona suite pass rate, call success, calls linked to a return.

- suite pass rate: scenario results (``persona_test_logs``, ``test_type = 'scenario'``) run in the period that passed.
- call success and calls linked to a return: the Calls page's own figures (``dokani.calls.facts.outcome_summary``):
  success over the calls the provider evaluated (``call_successful``), linked over all calls of the period
  (``call_return_links`` with a return).
- open security events: unresolved now (a state; the Risk page lists them).
"""
from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy import text

from db.uow import UnitOfWork
from dokani.analytics.kpis import Period, Rate
from dokani.calls.analytics import CallFilter
from dokani.calls.facts import outcome_summary
from dokani.lab.suites import TEST_TYPE
from dokani.returns.rows import acting_business


class Activity(BaseModel):
    suite_pass: Rate
    call_success: Rate  # successful / evaluated by the provider
    calls_linked: Rate | None  # linked to a return / calls; None where the database cannot link them
    open_security_events: int  # a state, not a flow: unresolved now, whatever the period


def activity(uow: UnitOfWork, period: Period) -> Activity:
    params = {"b": acting_business(uow), "start": period.start, "end": period.end, "t": TEST_TYPE}
    passed, runs = uow.session.execute(
        text(
            "SELECT count(*) FILTER (WHERE l.success), count(*) FROM persona_test_logs l "
            "WHERE l.business_id = :b AND l.test_type = :t AND l.created_at >= :start AND l.created_at < :end"
        ),
        params,
    ).one()
    calls = outcome_summary(uow, CallFilter(period=period))
    events = uow.session.execute(
        text("SELECT count(*) FROM security_events WHERE business_id = :b AND NOT coalesce(resolved, false)"), params
    ).scalar()
    return Activity(suite_pass=Rate(hits=passed, n=runs), call_success=Rate(hits=calls.successful, n=calls.evaluated),
                    calls_linked=Rate(hits=calls.linked, n=calls.calls), open_security_events=int(events))
