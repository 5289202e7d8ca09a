"""Running scenario suites against a persona and a policy version, and reading their results.

The suites themselves (the file format, parsing, validation) are in ``suite_files``.
Every scenario runs in its own chat test session (``metadata.origin = 'suite'``, hidden from the session
list by default); the run is one transaction (a savepoint per scenario); each result is one ``persona_test_logs`` row
(``test_type = 'scenario'``; ``test_result`` holds ``suite_run_id``, ``suite``, ``scenario``,
``policy_version``, ``passed``, the failures and the transcript). ``latest_suite_result`` is what a
policy-activation gate reads (``dokani.policies.versions`` loads it by this module's name);
``pass_rate_history`` is the per-persona chart.
"""
from __future__ import annotations

import time
from datetime import datetime
from typing import Any, Callable
from uuid import UUID, uuid4

import pandas as pd
from pydantic import BaseModel, Field
from sqlalchemy import func, text

from db.uow import UnitOfWork
from dokani import audit
from dokani.lab import conversations, personas
from dokani.lab import sessions as chat_lab
from dokani.lab.agent import AgentReply
from dokani.lab.suite_files import Expectation, Scenario, Suite
from dokani.errors import DokaniError, Invalid, NotFound
from dokani.models import PersonaTestLog

TEST_TYPE = "scenario"


# ------------------------------------------------------------------------------------------------------------
# Results
# ------------------------------------------------------------------------------------------------------------


class Check(BaseModel):
    expectation: str
    expected: Any
    actual: Any
    passed: bool

    def describe(self) -> str:
        return f"{self.expectation}: expected {self.expected!r}, got {self.actual!r}"


class TurnRecord(BaseModel):
    say: str
    reply: str
    intent: str | None = None
    confidence: float | None = None
    triage: str | None = None
    return_opened: dict[str, Any] | None = None
    checks: list[Check] = Field(default_factory=list)


class ScenarioResult(BaseModel):
    name: str
    passed: bool
    failures: list[str] = Field(default_factory=list)
    turns: list[TurnRecord] = Field(default_factory=list)
    duration_ms: int = 0
    session_id: UUID | None = None
    error: str | None = None

    @property
    def first_failure(self) -> str | None:
        return self.error or (self.failures[0] if self.failures else None)


class SuiteRunSummary(BaseModel):
    run_id: str
    suite: str | None
    persona_id: UUID | None
    persona_name: str | None
    policy_version: str | None
    started_at: datetime | None
    scenarios: int
    passed: int
    results: list[ScenarioResult] = Field(default_factory=list)

    @property
    def failed(self) -> int:
        return self.scenarios - self.passed

    @property
    def passed_all(self) -> bool:
        return self.scenarios > 0 and self.passed == self.scenarios

    @property
    def pass_rate(self) -> float:
        return self.passed / self.scenarios if self.scenarios else 0.0


def _check_turn(expect: Expectation, reply: AgentReply, text_: str) -> list[Check]:
    checks: list[Check] = []
    lowered = text_.lower()
    if expect.intent is not None:
        checks.append(Check(expectation="intent", expected=expect.intent, actual=reply.intent,
                            passed=reply.intent == expect.intent))
    for needle in expect.reply_contains:
        checks.append(Check(expectation="reply contains", expected=needle, actual=text_,
                            passed=needle.lower() in lowered))
    for needle in expect.reply_not_contains:
        checks.append(Check(expectation="reply does not contain", expected=needle, actual=text_,
                            passed=needle.lower() not in lowered))
    if expect.triage is not None:
        actual = reply.triage.recommendation if reply.triage else None
        checks.append(Check(expectation="triage outcome", expected=expect.triage, actual=actual,
                            passed=actual == expect.triage))
    if expect.return_opened is not None:
        opened = reply.return_opened
        if not expect.return_opened.opened or expect.return_opened.status is None:
            wanted = expect.return_opened.opened
            checks.append(Check(expectation="return opened", expected=wanted, actual=opened is not None,
                                passed=(opened is not None) == wanted))
        else:
            actual = opened.status if opened else None
            wanted = expect.return_opened.status
            checks.append(Check(expectation="return opened with status", expected=wanted or "any status",
                                actual=actual, passed=opened is not None and (wanted is None or actual == wanted)))
    if expect.escalated is not None:
        checks.append(Check(expectation="escalated", expected=expect.escalated, actual=reply.escalated,
                            passed=reply.escalated == expect.escalated))
    if expect.order_id is not None:
        checks.append(Check(expectation="order", expected=expect.order_id, actual=reply.order_id,
                            passed=(reply.order_id or "").upper() == expect.order_id.upper()))
    return checks


# ------------------------------------------------------------------------------------------------------------
# Running
# ------------------------------------------------------------------------------------------------------------

Progress = Callable[[int, int, str], None]


def resolve_policy_version(uow: UnitOfWork, wanted: str | None) -> str:
    options = chat_lab.policy_options(uow)
    if wanted:
        if any(o.version == wanted for o in options):
            return wanted
        raise NotFound(f"No policy version {wanted} (active or draft) in this business; "
                       f"there are: {', '.join(o.version for o in options) or 'none'}.")
    active = next((o for o in options if o.is_active), None)
    if active is None:
        raise NotFound("This business has no active policy; name a draft version to test against.")
    return active.version


def run_suite(
    uow: UnitOfWork,
    suite: Suite,
    persona: str | UUID,
    policy_version: str | None = None,
    progress: Progress | None = None,
    run_id: str | None = None,
) -> SuiteRunSummary:
    """Run every scenario and log each result; the whole run is one transaction, committed at the end.

    A scenario refused by the domain (an unknown order, an inactive persona...) is rolled back to its own
    savepoint and logged as failed with the reason; anything else (the database refusing a write) rolls the
    whole run back, so no scenario's session, messages or log row is ever left without its run's audit row.
    `run_id`: a background job passes its own, the same on every attempt, so a retried attempt first discards
    anything an earlier attempt left (``discard_partial_run``).
    """
    personas.require_role(uow, chat_lab.LAB_ROLES, "run scenario suites")
    who = personas.get_persona(uow, persona)
    if not who.is_active:
        raise Invalid(f"{who.config_name} is inactive; activate it before testing it.")
    version = resolve_policy_version(uow, policy_version or suite.policy)
    run_id = run_id or str(uuid4())
    started = uow.session.execute(text("SELECT localtimestamp")).scalar()
    results: list[ScenarioResult] = []
    total = len(suite.scenarios)
    for i, scenario in enumerate(suite.scenarios):
        if progress:
            progress(i, total, scenario.name)
        result = _run_scenario(uow, suite, scenario, who, version, run_id)
        results.append(result)  # its writes are part of the run's transaction (savepoint released)
        uow.session.add(PersonaTestLog(
            business_id=uow.actor.business_id, config_id=who.id, test_type=TEST_TYPE, test_content=scenario.name,
            test_result={
                "suite_run_id": run_id, "suite": suite.suite, "scenario": scenario.name, "policy_version": version,
                "persona_name": who.config_name, "passed": result.passed, "failures": result.failures,
                "error": result.error, "session_id": str(result.session_id) if result.session_id else None,
                "turns": [t.model_dump(mode="json") for t in result.turns], "run_started_at": started.isoformat(),
            },
            success=result.passed, error_message=result.first_failure, test_duration_ms=result.duration_ms,
            created_at=func.clock_timestamp(),  # one transaction: now() would give every scenario the same time
        ))
        uow.session.flush()
    if progress:
        progress(total, total, "done")
    passed = sum(r.passed for r in results)
    audit.record(uow, "persona_test.suite_run", "provider_configs", who.id, None,
                 {"suite_run_id": run_id, "suite": suite.suite, "policy_version": version,
                  "scenarios": total, "passed": passed})
    uow.commit()
    return SuiteRunSummary(run_id=run_id, suite=suite.suite, persona_id=who.id, persona_name=who.config_name,
                           policy_version=version, started_at=started, scenarios=total, passed=passed, results=results)


def _run_scenario(uow: UnitOfWork, suite: Suite, scenario: Scenario, who: personas.Persona, version: str,
                  run_id: str) -> ScenarioResult:
    t0 = time.perf_counter()
    customer = scenario.customer or suite.customer
    turns: list[TurnRecord] = []
    failures: list[str] = []
    session_id = None
    savepoint = uow.session.begin_nested()  # a refused scenario undoes only itself
    try:
        session = chat_lab.create_session(
            uow,
            chat_lab.SessionDraft(name=f"{suite.suite} · {scenario.name}"[:120], chat_mode=scenario.chat_mode or suite.chat_mode,
                                  persona_id=who.id, policy_version=version, customer_email=customer.email,
                                  order_id=customer.order),
            origin="suite",
            simulated_orders=[o.model_dump(mode="json") for o in scenario.orders] or None,
            extra={"suite_run_id": run_id, "suite": suite.suite, "scenario": scenario.name},
            commit=False,
        )
        session_id = session.id
        for n, turn in enumerate(scenario.turns, start=1):
            out = conversations.send_message(uow, session.id, turn.say, commit=False)
            checks = _check_turn(turn.expect, out.reply, out.agent.message)
            failures.extend(f"turn {n}: {c.describe()}" for c in checks if not c.passed)
            turns.append(TurnRecord(
                say=turn.say, reply=out.agent.message, intent=out.reply.intent, confidence=out.reply.confidence,
                triage=out.reply.triage.recommendation if out.reply.triage else None,
                return_opened=out.reply.return_opened.model_dump(mode="json") if out.reply.return_opened else None,
                checks=checks,
            ))
        savepoint.commit()
        error = None
    except DokaniError as err:
        savepoint.rollback()  # nothing of a broken scenario is kept but its log row
        session_id = None
        error = f"scenario could not run: {err}" + (
            "".join(f" ({k}: {v})" for k, v in err.problems.items()) if isinstance(err, Invalid) else "")
    return ScenarioResult(
        name=scenario.name, passed=error is None and not failures, failures=failures, turns=turns,
        duration_ms=int((time.perf_counter() - t0) * 1000), session_id=session_id, error=error,
    )


# ------------------------------------------------------------------------------------------------------------
# Reading results
# ------------------------------------------------------------------------------------------------------------


def _list(value: Any) -> list:
    """Rows written by other tools may hold a count or a string where this runner writes a list."""
    return value if isinstance(value, list) else []


def _results_of_run(uow: UnitOfWork, run_id: str) -> SuiteRunSummary | None:
    rows = uow.session.execute(
        text(
            """
            SELECT l.config_id, l.test_content, l.test_result, l.success, l.error_message, l.test_duration_ms,
                   l.created_at, p.config_name
            FROM persona_test_logs l LEFT JOIN provider_configs p ON p.id = l.config_id
            WHERE l.business_id = :b AND l.test_result ->> 'suite_run_id' = :run
            ORDER BY l.created_at, l.id
            """
        ),
        {"b": uow.actor.business_id, "run": run_id},
    ).all()
    if not rows:
        return None
    results = []
    for r in rows:
        tr = r.test_result or {}
        results.append(ScenarioResult(
            name=tr.get("scenario") or r.test_content, passed=bool(r.success),
            failures=[str(f) for f in _list(tr.get("failures"))]
            or ([r.error_message] if r.error_message and not tr.get("error") else []),
            turns=[TurnRecord.model_validate(t) for t in _list(tr.get("turns")) if isinstance(t, dict) and "say" in t],
            duration_ms=int(r.test_duration_ms or 0),
            session_id=tr.get("session_id") or None, error=str(tr["error"]) if tr.get("error") else None,
        ))
    first = rows[0]
    tr0 = first.test_result or {}
    return SuiteRunSummary(
        run_id=run_id, suite=tr0.get("suite"), persona_id=first.config_id,
        persona_name=first.config_name or tr0.get("persona_name"), policy_version=tr0.get("policy_version"),
        started_at=rows[0].created_at, scenarios=len(rows), passed=sum(bool(r.success) for r in rows), results=results,
    )


def latest_suite_result(uow: UnitOfWork, policy_version: str) -> SuiteRunSummary | None:
    """The most recent suite run against `policy_version` in the acting business, or None if there was none.

    For the policy-activation gate: ``summary.passed_all`` says whether every scenario passed.
    """
    run = uow.session.execute(
        text(
            """
            SELECT test_result ->> 'suite_run_id' AS run
            FROM persona_test_logs
            WHERE business_id = :b AND test_type = :t AND test_result ->> 'policy_version' = :v
              AND test_result ? 'suite_run_id'
            ORDER BY created_at DESC, id DESC LIMIT 1
            """
        ),
        {"b": uow.actor.business_id, "t": TEST_TYPE, "v": policy_version},
    ).scalar()
    return _results_of_run(uow, run) if run else None


def discard_partial_run(uow: UnitOfWork, run_id: str) -> int:
    """Delete the scenario logs of an unfinished run (its worker died), in one transaction; how many."""
    gone = uow.session.execute(
        text("DELETE FROM persona_test_logs WHERE business_id = :b AND test_result ->> 'suite_run_id' = :run"),
        {"b": uow.actor.business_id, "run": run_id}).rowcount
    uow.commit()
    return gone


def suite_run(uow: UnitOfWork, run_id: str) -> SuiteRunSummary:
    found = _results_of_run(uow, run_id)
    if found is None:
        raise NotFound("No suite run with that id in this business.")
    return found


def pass_rate_history(uow: UnitOfWork, persona_id: UUID | None = None, limit: int = 200) -> pd.DataFrame:
    """One row per suite run (oldest first): when, suite, policy version, scenarios, passed, pass rate."""
    rows = uow.session.execute(
        text(
            """
            SELECT * FROM (
              SELECT l.test_result ->> 'suite_run_id' AS run_id, min(l.created_at) AS started_at,
                     min(l.test_result ->> 'suite') AS suite, min(l.test_result ->> 'policy_version') AS policy_version,
                     min(p.config_name) AS persona, count(*) AS scenarios, count(*) FILTER (WHERE l.success) AS passed
              FROM persona_test_logs l LEFT JOIN provider_configs p ON p.id = l.config_id
              WHERE l.business_id = :b AND l.test_type = :t AND l.test_result ? 'suite_run_id'
                AND (CAST(:persona AS uuid) IS NULL OR l.config_id = CAST(:persona AS uuid))
              GROUP BY l.test_result ->> 'suite_run_id', l.config_id
              ORDER BY min(l.created_at) DESC LIMIT :limit
            ) runs ORDER BY started_at
            """
        ),
        {"b": uow.actor.business_id, "t": TEST_TYPE, "persona": str(persona_id) if persona_id else None, "limit": limit},
    ).all()
    frame = pd.DataFrame([dict(r._mapping) for r in rows],
                         columns=["run_id", "started_at", "suite", "policy_version", "persona", "scenarios", "passed"])
    frame["pass_rate"] = (frame["passed"] / frame["scenarios"]).astype(float) if len(frame) else pd.Series(dtype=float)
    return frame


def results_frame(summary: SuiteRunSummary) -> pd.DataFrame:
    return pd.DataFrame(
        [{"Scenario": r.name, "Result": "pass" if r.passed else "FAIL", "First failing expectation": r.first_failure or "",
          "Turns": len(r.turns), "Duration (ms)": r.duration_ms} for r in summary.results],
        columns=["Scenario", "Result", "First failing expectation", "Turns", "Duration (ms)"],
    )
