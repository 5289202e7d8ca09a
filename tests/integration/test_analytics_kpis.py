"""Overview KPIs equal a hand count on a small hand-built business; agreement and override figures follow the
decisions reviewers make through the service; every figure's drill-down link shows exactly the rows counted."""
from __future__ import annotations

from datetime import datetime, timedelta

import psycopg
import pytest
from sqlalchemy import text

from db.uow import unit_of_work
from dokani.analytics import agreement as people_vs_ai
from dokani.analytics import kpis
from dokani.analytics.activity import activity
from dokani.analytics.kpis import Period
from dokani.returns import queue
from dokani.returns.decisions import decide_return
from dokani.returns.query_string import from_query, queue_query
from dokani.returns.review import return_detail
from tests.analytics_fixtures import HAND, NOVEMBER, hand_built, insert_return, make_business, trace


@pytest.fixture
def hand(empty_db):
    return hand_built(empty_db)


def test_return_kpis_equal_the_hand_count(hand):
    with unit_of_work(hand["owner"]) as uow:
        now, before = kpis.compared_kpis(uow, NOVEMBER)
    assert (now.opened, now.decided, now.approved, now.denied) == (
        HAND["opened"], HAND["decided"], HAND["approved"], HAND["denied"])
    assert (now.approval.hits, now.approval.n, now.denial.hits) == (4, 6, 2)
    assert now.approval.value == pytest.approx(4 / 6) and now.approval.small_sample  # 6 decisions < 10
    assert now.median_hours_to_decision == pytest.approx(HAND["median_h"], abs=1e-6)
    assert now.p90_hours_to_decision == pytest.approx(HAND["p90_h"], abs=1e-6)
    assert now.refunded_value == HAND["refunded"]
    assert (now.orders, now.returned_orders) == (HAND["orders"], HAND["returned_orders"])
    assert now.return_rate.value == pytest.approx(2 / 5)
    b = HAND["before"]
    assert (before.opened, before.decided, before.denied, before.refunded_value) == (
        b["opened"], b["decided"], b["denied"], b["refunded"])
    assert before.median_hours_to_decision == pytest.approx(b["median_h"])
    assert (before.orders, before.returned_orders) == (b["orders"], b["returned"])


def test_an_empty_period_has_no_rates_only_zero_counts(hand):
    with unit_of_work(hand["owner"]) as uow:
        now, _ = kpis.compared_kpis(uow, Period(start=datetime(2024, 1, 1), end=datetime(2024, 2, 1)))
        agreed = people_vs_ai.agreement(uow, Period(start=datetime(2024, 1, 1), end=datetime(2024, 2, 1)))
    assert now.opened == 0 and now.approval.value is None and not now.approval.small_sample
    assert now.median_hours_to_decision is None and now.return_rate.value is None
    assert agreed.overall.value is None and agreed.person_decisions == 0


def test_agreement_and_override_by_rule_equal_the_hand_count(hand):
    with unit_of_work(hand["owner"]) as uow:
        a = people_vs_ai.agreement(uow, NOVEMBER)
        o = people_vs_ai.rule_overrides(uow, NOVEMBER)
        weeks = people_vs_ai.weekly_trend(uow, NOVEMBER)
    assert a.person_decisions == HAND["person_decisions"]
    assert (a.overall.hits, a.overall.n) == (HAND["agreed"], HAND["pushed"])
    by = {r.recommendation: r for r in a.by_recommendation}
    assert (by["auto_approve"].decisions, by["auto_approve"].agreement.hits) == (1, 1)
    assert (by["auto_deny"].decisions, by["auto_deny"].approved, by["auto_deny"].agreement.hits) == (2, 1, 1)
    assert by["human_review"].agreement is None and (by["human_review"].approved, by["human_review"].denied) == (1, 1)
    got = {(r.rule, r.outcome): (r.overrides.n, r.overrides.hits) for r in o.rules}
    assert got == HAND["rules"]  # flag and info clauses push no outcome: never listed
    assert (o.traced_decisions, o.untraced_decisions) == (HAND["traced"], HAND["untraced"])
    assert all(r.overrides.small_sample for r in o.rules)
    assert [str(w) for w in weeks["week"]] == ["2025-10-27", "2025-11-03", "2025-11-10", "2025-11-17", "2025-11-24"]
    assert list(weeks["decisions"]) == [0, 2, 2, 1, 0]
    assert list(weeks["agreed"]) == [0, 1, 1, 0, 0] and list(weeks["pushed"]) == [0, 2, 1, 0, 0]
    assert list(weeks["overrode"]) == [0, 1, 0, 0, 0]
    assert weeks["agreement"][1] == pytest.approx(0.5) and weeks["agreement"].isna()[0]  # no decision: no rate


def test_waiting_and_overdue_are_the_returns_pages_figures(hand):
    with unit_of_work(hand["owner"]) as uow:
        work = queue.queue_kpis(uow)
        waiting = queue.queue_page(uow, from_query(queue_query(statuses=["pending_review", "escalated"])))
        overdue = queue.queue_page(uow, from_query(queue_query(statuses=["pending_review", "escalated"],
                                                               sla_states=["overdue"])))
    assert (work.waiting, work.overdue) == (HAND["waiting"], HAND["overdue"])
    assert waiting.total == work.waiting and overdue.total == work.overdue


def _queue_total(actor, **fields) -> int:
    with unit_of_work(actor) as uow:
        return queue.queue_page(uow, from_query(queue_query(**fields))).total


def test_each_figures_link_shows_exactly_the_rows_counted(hand):
    days = {"created_from": NOVEMBER.first_day, "created_to": NOVEMBER.last_day}
    owner = hand["owner"]
    with unit_of_work(owner) as uow:
        now, _ = kpis.compared_kpis(uow, NOVEMBER)
        a = people_vs_ai.agreement(uow, NOVEMBER)
        o = people_vs_ai.rule_overrides(uow, NOVEMBER)
    assert _queue_total(owner, statuses=[], **days) == now.opened
    assert _queue_total(owner, statuses=["approved", "denied", "completed"], **days) == now.decided
    assert _queue_total(owner, statuses=["approved", "completed"], **days) == now.approved
    assert _queue_total(owner, statuses=["denied"], **days) == now.denied
    decided = ["approved", "denied", "completed"]
    for r in a.by_recommendation:
        assert _queue_total(owner, statuses=decided, recommendations=[r.recommendation], decided_by_person=True,
                            **days) == r.decisions
    for rule in o.rules:
        assert _queue_total(owner, statuses=decided, decided_by_person=True,
                            rule_trace=[f"{rule.rule}:{rule.outcome}"], **days) == rule.overrides.n
        against = ["denied"] if rule.pushed == "approve" else ["approved", "completed"]
        assert _queue_total(owner, statuses=against, decided_by_person=True,
                            rule_trace=[f"{rule.rule}:{rule.outcome}"], **days) == rule.overrides.hits


def test_decisions_made_through_the_service_move_agreement_and_overrides(empty_db):
    now = datetime.utcnow() - timedelta(hours=3)
    with psycopg.connect(empty_db, autocommit=True) as c:
        made = make_business(c, "svc")
        b = made["business_id"]
        ids = {
            "deny_pushed": insert_return(c, b, now, "pending_review", "auto_deny", value=80,
                                         details=trace(("return_window", "violation"))),
            "approve_pushed": insert_return(c, b, now, "pending_review", "auto_approve", value=20,
                                            details=trace(("acceptable_reasons", "pass"))),
            "review": insert_return(c, b, now, "pending_review", "human_review", value=40,
                                    details=trace(("return_window", "violation"))),
            "escalated": insert_return(c, b, now, "pending_review", "auto_deny", value=90,
                                       details=trace(("return_window", "violation"))),
        }
    reviewer = made["reviewer"]
    period = Period.whole_days(7)

    def decide(key, action, note=None):
        with unit_of_work(reviewer) as uow:
            pid = uow.session.execute(text("SELECT public_id FROM return_requests WHERE id = :i"), {"i": ids[key]}).scalar()
            seen = return_detail(uow, str(pid))
            decide_return(uow, ids[key], action, expected_version=seen.version, note=note)

    with unit_of_work(reviewer) as uow:
        assert people_vs_ai.agreement(uow, period).person_decisions == 0
    decide("deny_pushed", "approve")  # against the AI and against the window rule
    decide("approve_pushed", "approve")  # with the AI
    decide("review", "deny", note="outside the window")  # with the window rule; the AI pushed nothing
    decide("escalated", "escalate", note="ask the warehouse")  # not a decision yet
    with unit_of_work(reviewer) as uow:
        a = people_vs_ai.agreement(uow, period)
        o = people_vs_ai.rule_overrides(uow, period)
        k, _ = kpis.compared_kpis(uow, period)
    assert a.person_decisions == 3
    assert (a.overall.hits, a.overall.n) == (1, 2) and a.overall.small_sample
    by = {r.recommendation: r for r in a.by_recommendation}
    assert (by["auto_deny"].decisions, by["auto_deny"].agreement.hits) == (1, 0)
    assert (by["auto_approve"].decisions, by["auto_approve"].agreement.hits) == (1, 1)
    assert {(r.rule, r.outcome): (r.overrides.n, r.overrides.hits) for r in o.rules} == {
        ("return_window", "violation"): (2, 1), ("acceptable_reasons", "pass"): (1, 0)}
    assert (k.opened, k.decided, k.approved, k.denied) == (4, 3, 2, 1)
    assert k.refunded_value == 100.0


def test_other_business_rows_never_count(hand, empty_db):
    with psycopg.connect(empty_db, autocommit=True) as c:
        other = make_business(c, "other")
        insert_return(c, other["business_id"], datetime(2025, 11, 10), "approved", "auto_deny", person_h=1, value=5,
                      details=trace(("return_window", "violation")))
    with unit_of_work(hand["owner"]) as uow:
        now, _ = kpis.compared_kpis(uow, NOVEMBER)
        assert people_vs_ai.agreement(uow, NOVEMBER).person_decisions == HAND["person_decisions"]
    assert now.opened == HAND["opened"]
    with unit_of_work(other["owner"]) as uow:
        assert kpis.compared_kpis(uow, NOVEMBER)[0].opened == 1


def test_call_success_and_links_are_the_calls_pages_figures(hand, empty_db):
    b, ids = hand["business_id"], hand["ids"]
    with psycopg.connect(empty_db, autocommit=True) as c:
        persona = c.execute("INSERT INTO provider_configs (business_id, provider, config_name) "
                            "VALUES (%s, 'elevenlabs', 'Ava') RETURNING id", (b,)).fetchone()[0]
        calls = [c.execute("INSERT INTO call_sessions (call_type, provider, persona_config_id, status, created_at) "
                           "VALUES ('voice', 'elevenlabs', %s, 'completed', %s) RETURNING id",
                           (persona, datetime(2025, 11, 3 + k))).fetchone()[0] for k in range(3)]
        c.execute("INSERT INTO call_sessions (call_type, provider, persona_config_id, created_at) "
                  "VALUES ('voice', 'elevenlabs', %s, %s)", (persona, datetime(2025, 10, 3)))  # the month before
        for call, verdict in zip(calls, ("success", "failure")):
            c.execute("INSERT INTO call_analytics (call_session_id, provider, metrics) VALUES (%s, 'elevenlabs', %s)",
                      (call, f'{{"call_successful": "{verdict}"}}'))
        c.execute("INSERT INTO call_return_links (call_session_id, business_id, return_request_id, method) "
                  "VALUES (%s, %s, %s, 'order_id')", (calls[0], b, ids["r1"]))
        c.execute("INSERT INTO call_return_links (call_session_id, business_id, return_request_id, method) "
                  "VALUES (%s, %s, NULL, 'reviewer')", (calls[2], b))  # a reviewer cleared the link
        c.execute("INSERT INTO persona_test_logs (business_id, config_id, test_type, test_content, success, created_at) "
                  "VALUES (%s, %s, 'scenario', 'a', true, %s), (%s, %s, 'scenario', 'b', false, %s)",
                  (b, persona, datetime(2025, 11, 5), b, persona, datetime(2025, 11, 6)))
    with unit_of_work(hand["owner"]) as uow:
        found = activity(uow, NOVEMBER)
    assert (found.call_success.hits, found.call_success.n) == (1, 2)  # evaluated calls only
    assert (found.calls_linked.hits, found.calls_linked.n) == (1, 3)
    assert (found.suite_pass.hits, found.suite_pass.n) == (1, 2) and found.suite_pass.small_sample
