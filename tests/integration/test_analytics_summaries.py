"""The summaries behind the Overview and Calls pages (revision 0019) stay exact whoever writes: after the seed's
COPY, triage, a decision, a bulk decision, an import, completing, escalating, deleting, hand-written SQL, call
imports and a reviewer's link correction, every figure the pages show equals the same figure recomputed from the
base tables, and each summary table equals a recomputation of it row for row."""
from __future__ import annotations

from datetime import datetime, timedelta

import psycopg
import pytest
from sqlalchemy import text

from db.demo import business
from db.uow import unit_of_work
from dokani.analytics import agreement as people_vs_ai
from dokani.analytics import kpis
from dokani.analytics.kpis import Period
from dokani.calls import analytics as calls_direct
from dokani.calls import facts
from dokani.calls import outcomes as outcomes_direct
from dokani.calls.analytics import CallFilter
from dokani.calls.linking import correct_link
from dokani.returns.csv_import import import_returns, preview_returns_csv
from dokani.returns.decisions import SeenReturn, decide_return, decide_returns
from dokani.returns.review import return_detail
from dokani.triage.service import triage_pending
from tests.calls_fixtures import EL_AUDIO, EL_CONVERSATION, EL_TRANSCRIPTION, TAVUS, file, import_files
from tests.conftest import actor_for

# Each summary table against the same rows recomputed from the base tables; EXCEPT both ways, so a missing, extra
# or wrong row shows up. Zero rows are kept by the triggers (readers skip them) and left out here.
RECOMPUTED = {
    "return_daily_summary": (
        """SELECT business_id, day, status, recommendation, category, person_decided, traced, returns, order_value
           FROM return_daily_summary WHERE returns <> 0 OR order_value <> 0""",
        """SELECT business_id, CAST(created_at AS date), status, ai_recommendation, product_category,
                  admin_decision_at IS NOT NULL, coalesce(jsonb_typeof(triage_details -> 'rules_fired') = 'array', false),
                  count(*), coalesce(sum(order_value), 0)
           FROM return_requests WHERE NOT is_test AND created_at IS NOT NULL GROUP BY 1, 2, 3, 4, 5, 6, 7""",
    ),
    "return_rule_daily_summary": (
        "SELECT business_id, day, rule, outcome, person_outcome, returns FROM return_rule_daily_summary WHERE returns <> 0",
        """SELECT r.business_id, CAST(r.created_at AS date), c ->> 'rule', c ->> 'outcome',
                  CASE WHEN r.status = 'denied' THEN 'deny' ELSE 'approve' END, count(DISTINCT r.id)
           FROM return_requests r CROSS JOIN LATERAL jsonb_array_elements(r.triage_details -> 'rules_fired') c
           WHERE NOT r.is_test AND r.created_at IS NOT NULL AND r.admin_decision_at IS NOT NULL
             AND r.status IN ('approved', 'denied', 'completed') AND jsonb_typeof(r.triage_details -> 'rules_fired') = 'array'
             AND c ->> 'outcome' IN ('pass', 'violation') AND c ->> 'rule' IS NOT NULL
           GROUP BY 1, 2, 3, 4, 5""",
    ),
    "return_decision_times": (
        "SELECT return_id, business_id, created_at, round(CAST(hours AS numeric), 6) FROM return_decision_times",
        """SELECT id, business_id, created_at, round(CAST(extract(epoch FROM (CASE WHEN status = 'denied'
                    THEN coalesce(admin_decision_at, denied_at) ELSE coalesce(admin_decision_at, approved_at) END)
                    - created_at) / 3600.0 AS numeric), 6)
           FROM return_requests WHERE NOT is_test AND created_at IS NOT NULL AND status IN ('approved', 'denied', 'completed')
             AND (CASE WHEN status = 'denied' THEN coalesce(admin_decision_at, denied_at)
                  ELSE coalesce(admin_decision_at, approved_at) END) IS NOT NULL""",
    ),
    "return_decision_hours": (
        "SELECT business_id, day, bucket, returns FROM return_decision_hours WHERE returns <> 0",
        """SELECT business_id, CAST(created_at AS date), CAST(floor(extract(epoch FROM (CASE WHEN status = 'denied'
                    THEN coalesce(admin_decision_at, denied_at) ELSE coalesce(admin_decision_at, approved_at) END)
                    - created_at) / 3600.0) AS bigint), count(*)
           FROM return_requests WHERE NOT is_test AND created_at IS NOT NULL AND status IN ('approved', 'denied', 'completed')
             AND (CASE WHEN status = 'denied' THEN coalesce(admin_decision_at, denied_at)
                  ELSE coalesce(admin_decision_at, approved_at) END) IS NOT NULL
           GROUP BY 1, 2, 3""",
    ),
    "order_daily_summary": (
        "SELECT business_id, day, orders, returned_orders FROM order_daily_summary WHERE orders <> 0 OR returned_orders <> 0",
        """SELECT o.business_id, CAST(o.purchase_date AS date), count(*), count(*) FILTER (WHERE EXISTS (
                    SELECT 1 FROM return_requests r WHERE r.business_id = o.business_id AND r.order_id = o.order_id
                    AND NOT r.is_test))
           FROM mock_orders o WHERE o.business_id IS NOT NULL AND o.purchase_date IS NOT NULL GROUP BY 1, 2""",
    ),
    "call_facts": (
        "SELECT call_id, business_id, status, duration_seconds, evaluation, resolution, linked, conversation_escalated "
        "FROM call_facts",
        """SELECT c.id, dokani.business_of_call(c.id), c.status, c.duration_seconds,
                  a.metrics ->> 'call_successful', a.metrics ->> 'resolution',
                  EXISTS (SELECT 1 FROM call_return_links l WHERE l.call_session_id = c.id
                          AND l.return_request_id IS NOT NULL AND l.business_id = dokani.business_of_call(c.id)),
                  coalesce((SELECT s.escalation_level > 0 FROM ai_conversation_state s
                            WHERE s.id = c.ai_conversation_state_id), false)
           FROM call_sessions c
           LEFT JOIN LATERAL (SELECT x.metrics FROM call_analytics x WHERE x.call_session_id = c.id
                              ORDER BY x.created_at DESC, x.id DESC LIMIT 1) a ON true
           WHERE dokani.business_of_call(c.id) IS NOT NULL""",
    ),
}

YEAR = Period.whole_days(400)
WEEK = Period.whole_days(7)


def records(frame) -> list[dict]:
    """A frame's rows with no data as None (NaN never equals itself)."""
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def assert_tables_exact(url: str) -> None:
    with psycopg.connect(url) as conn:
        for table, (kept, recomputed) in RECOMPUTED.items():
            missing = conn.execute(f"({recomputed}) EXCEPT ({kept})").fetchall()
            extra = conn.execute(f"({kept}) EXCEPT ({recomputed})").fetchall()
            assert (missing, extra) == ([], []), f"{table}: missing {missing[:3]}, wrong or extra {extra[:3]}"


def overview_figures(actor, period: Period) -> tuple:
    with unit_of_work(actor) as uow:
        now = (kpis.compared_kpis(uow, period), kpis.returns_per_day(uow, period).to_dict("records"),
               kpis.returns_by_category(uow, period).to_dict("records"), people_vs_ai.agreement(uow, period),
               people_vs_ai.rule_overrides(uow, period), records(people_vs_ai.weekly_trend(uow, period)))
        direct = (kpis.compared_kpis_from_returns(uow, period),
                  kpis.returns_per_day_from_returns(uow, period).to_dict("records"),
                  kpis.returns_by_category_from_returns(uow, period).to_dict("records"),
                  people_vs_ai._agreement(people_vs_ai.agreement_rows_from_returns(uow, period)),
                  people_vs_ai.rule_overrides_from_returns(uow, period),
                  records(people_vs_ai._weekly(people_vs_ai.weekly_rows_from_returns(uow, period))))
    return now, direct


def assert_overview_matches(actor, period: Period = YEAR) -> None:
    assert kpis.whole_days(period)
    now, direct = overview_figures(actor, period)
    names = ("kpis", "per day", "by category", "agreement", "rule overrides", "weekly")
    for name, a, b in zip(names, now, direct):
        assert a == b, f"{name}: summaries {a} != recomputed {b}"


def call_figures(actor, flt: CallFilter) -> tuple:
    with unit_of_work(actor) as uow:
        kept = (facts.call_summary(uow, flt), records(facts.calls_per_day(uow, flt)),
                records(facts.quality_by_persona(uow, flt)), facts.list_calls(uow, flt, limit=500),
                facts.outcome_summary(uow, flt), records(facts.volume_by_outcome(uow, flt)),
                records(facts.duration_distribution(uow, flt)),
                records(facts.criteria_pass_rates(uow, flt)))
        direct = (calls_direct.call_summary(uow, flt), records(calls_direct.calls_per_day(uow, flt)),
                  records(calls_direct.quality_by_persona(uow, flt)),
                  calls_direct.list_calls(uow, flt, limit=500), outcomes_direct.outcome_summary(uow, flt),
                  records(outcomes_direct.volume_by_outcome(uow, flt)),
                  records(outcomes_direct.duration_distribution(uow, flt)),
                  records(outcomes_direct.criteria_pass_rates(uow, flt)))
    return kept, direct


def assert_calls_match(actor, **filters) -> None:
    flt = CallFilter(period=Period(start=datetime(2000, 1, 1), end=datetime.utcnow() + timedelta(days=1)), **filters)
    kept, direct = call_figures(actor, flt)
    names = ("summary", "per day", "by persona", "list", "outcomes", "volume", "durations", "criteria")
    for name, a, b in zip(names, kept, direct):
        if isinstance(a, list):  # rows with equal counts come in any order from the recomputation
            a, b = sorted(a, key=str), sorted(b, key=str)
        assert a == b, f"{name}: call_facts {a} != recomputed {b}"


def _one(url: str, sql: str, *params):
    with psycopg.connect(url) as conn:
        return conn.execute(sql, params).fetchone()


def _pending(url: str, business_id, status: str = "pending_review", n: int = 1) -> list[int]:
    with psycopg.connect(url) as conn:
        return [r[0] for r in conn.execute(
            "SELECT id FROM return_requests WHERE business_id = %s AND status = %s AND NOT is_test ORDER BY created_at DESC, id LIMIT %s",
            (business_id, status, n))]


def _version(actor, return_id: int) -> str:
    with unit_of_work(actor) as uow:
        public_id = uow.session.execute(text("SELECT public_id FROM return_requests WHERE id = :i"),
                                        {"i": return_id}).scalar()
        return return_detail(uow, str(public_id)).version


def test_the_seeds_copy_leaves_every_summary_exact(fresh_db):
    assert_tables_exact(fresh_db)
    for key in ("atlas", "bloom"):
        assert_overview_matches(actor_for(key, "owner"))
        assert_overview_matches(actor_for(key, "owner"), WEEK)
        assert_calls_match(actor_for(key, "owner"))
    assert _one(fresh_db, "SELECT sum(returns) FROM return_daily_summary")[0] == _one(
        fresh_db, "SELECT count(*) FROM return_requests WHERE NOT is_test AND created_at IS NOT NULL")[0]


def test_triage_then_a_decision_then_a_bulk_decision_keep_the_overview_exact(fresh_db):
    reviewer = actor_for("atlas", "reviewer")
    with psycopg.connect(fresh_db, autocommit=True) as conn:  # more work for the engine: a few returns reopened
        conn.execute("UPDATE return_requests SET status = 'pending_triage', ai_recommendation = NULL, "
                     "admin_decision_at = NULL, approved_at = NULL, denied_at = NULL "
                     "WHERE id IN (SELECT id FROM return_requests WHERE business_id = %s AND NOT is_test "
                     "ORDER BY id LIMIT 40)", (reviewer.business_id,))
    assert_tables_exact(fresh_db)
    with unit_of_work(reviewer) as uow:
        summary = triage_pending(uow)
    assert summary.triaged > 0
    # The seed's own reviewers' decisions are there already; this test's decisions add to them.
    rules_before = _one(fresh_db, "SELECT coalesce(sum(returns), 0) FROM return_rule_daily_summary")[0]
    assert_tables_exact(fresh_db)

    (one,) = _pending(fresh_db, reviewer.business_id)
    before = overview_figures(reviewer, YEAR)[0][0][0]
    with unit_of_work(reviewer) as uow:
        decide_return(uow, one, "deny", expected_version=_version(reviewer, one), note="worn and washed")
    assert_tables_exact(fresh_db)
    assert_overview_matches(reviewer)
    after = overview_figures(reviewer, YEAR)[0][0][0]
    assert (after.denied, after.decided) == (before.denied + 1, before.decided + 1)  # a user sees the decision

    many = _pending(fresh_db, reviewer.business_id, n=8)
    seen = [SeenReturn(id=i, version=_version(reviewer, i)) for i in many]
    with unit_of_work(reviewer) as uow:
        out = decide_returns(uow, seen, "approve", note="batch checked")
    assert len(out.decided) == len(many)
    assert_tables_exact(fresh_db)
    assert_overview_matches(reviewer)
    assert _one(fresh_db, "SELECT coalesce(sum(returns), 0) FROM return_rule_daily_summary")[0] > rules_before


def test_escalating_completing_and_deleting_keep_the_overview_exact(fresh_db):
    owner = actor_for("atlas", "owner")
    (esc,) = _pending(fresh_db, owner.business_id)
    with unit_of_work(owner) as uow:
        decide_return(uow, esc, "escalate", expected_version=_version(owner, esc), note="needs the warehouse")
    (done,) = _pending(fresh_db, owner.business_id, "approved")
    with unit_of_work(owner) as uow:
        decide_return(uow, done, "complete", expected_version=_version(owner, done))
    assert_tables_exact(fresh_db)
    with unit_of_work(owner) as uow:  # an owner deletes returns (row-level security allows it): their figures go
        uow.session.execute(text(
            "DELETE FROM return_requests r WHERE r.id IN (SELECT x.id FROM return_requests x WHERE x.business_id = :b "
            "AND x.status = 'denied' AND NOT EXISTS (SELECT 1 FROM security_events e WHERE e.return_request_id = x.id) "
            "AND NOT EXISTS (SELECT 1 FROM conversation_sessions c WHERE c.return_request_id = x.id) "
            "AND NOT EXISTS (SELECT 1 FROM call_return_links l WHERE l.return_request_id = x.id) ORDER BY x.id LIMIT 3)"),
            {"b": owner.business_id})
        uow.commit()
    assert_tables_exact(fresh_db)
    assert_overview_matches(owner)


def test_an_import_and_hand_written_sql_keep_the_return_rate_and_figures_exact(fresh_db):
    admin = actor_for("atlas", "admin")
    atlas = business("atlas").business_id
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        order_id, = conn.execute("SELECT o.order_id FROM mock_orders o WHERE o.business_id = %s AND NOT EXISTS ("
                                 "SELECT 1 FROM return_requests r WHERE r.order_id = o.order_id) ORDER BY o.id LIMIT 1",
                                 (atlas,)).fetchone()
    data = ("order_id,customer_email,reason_for_return,order_value,product_category\n"
            f"{order_id},ann@example.com,The lamp arrived cracked,40,home\n"
            "IMP-NO-ORDER,bob@example.com,Too small,25,apparel\n").encode()
    rate_before = overview_figures(admin, YEAR)[0][0][0].returned_orders
    with unit_of_work(admin) as uow:
        assert import_returns(uow, preview_returns_csv(data), file_name="shop.csv") == 2
        uow.commit()
    assert_tables_exact(fresh_db)
    assert_overview_matches(admin)
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        placed = conn.execute("SELECT purchase_date >= %s FROM mock_orders WHERE order_id = %s",
                              (YEAR.start, order_id)).fetchone()[0]
        assert overview_figures(admin, YEAR)[0][0][0].returned_orders == rate_before + int(placed)
        # the returns of that order turned into test returns, moved to another order, re-dated; orders edited
        conn.execute("UPDATE return_requests SET is_test = true WHERE order_id = %s", (order_id,))
        assert_tables_exact(fresh_db)
        conn.execute("UPDATE return_requests SET is_test = false, order_id = 'IMP-NO-ORDER', "
                     "created_at = created_at - interval '3 days' WHERE order_id = %s", (order_id,))
        conn.execute("UPDATE mock_orders SET purchase_date = purchase_date - interval '40 days' "
                     "WHERE id IN (SELECT id FROM mock_orders WHERE business_id = %s ORDER BY id LIMIT 25)", (atlas,))
        conn.execute("INSERT INTO mock_orders (order_id, purchase_date, customer_email, product_name, product_category, "
                     "business_id) VALUES ('IMP-NO-ORDER', now(), 'bob@example.com', 'Shirt', 'apparel', %s)", (atlas,))
        conn.execute("UPDATE return_requests SET triage_details = jsonb_build_object('rules_fired', "
                     "jsonb_build_array(jsonb_build_object('rule', 'return_window', 'outcome', 'violation'))) "
                     "WHERE id IN (SELECT id FROM return_requests WHERE business_id = %s AND admin_decision_at IS NOT NULL "
                     "ORDER BY id LIMIT 30)", (atlas,))
        conn.execute("DELETE FROM mock_orders WHERE id IN (SELECT id FROM mock_orders WHERE business_id = %s "
                     "ORDER BY id DESC LIMIT 5)", (atlas,))
    assert_tables_exact(fresh_db)
    assert_overview_matches(admin)
    assert_overview_matches(admin, WEEK)


def test_truncating_the_returns_empties_what_follows_from_them(fresh_db):
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("TRUNCATE return_requests CASCADE")
    assert_tables_exact(fresh_db)
    assert _one(fresh_db, "SELECT count(*) FROM return_daily_summary")[0] == 0


def test_call_imports_and_a_reviewers_link_correction_keep_the_calls_page_exact(fresh_db):
    owner, reviewer = actor_for("atlas", "owner"), actor_for("atlas", "reviewer")
    import_files(owner, [file(EL_TRANSCRIPTION), file(EL_AUDIO), *[file(n) for n in TAVUS]])
    assert_tables_exact(fresh_db)
    assert_calls_match(owner)
    assert_calls_match(owner, evaluation="success")
    assert_calls_match(owner, provider="elevenlabs", status="completed")
    call_id, = _one(fresh_db, "SELECT id FROM call_sessions WHERE elevenlabs_conversation_id = %s", EL_CONVERSATION)
    public_id, = _one(fresh_db, "SELECT public_id FROM return_requests WHERE business_id = %s AND NOT is_test "
                                "ORDER BY id LIMIT 1", owner.business_id)
    with unit_of_work(reviewer) as uow:
        correct_link(uow, call_id, public_id, note="the customer named this order")
        uow.commit()
    assert _one(fresh_db, "SELECT linked FROM call_facts WHERE call_id = %s", call_id)[0]
    with unit_of_work(reviewer) as uow:
        correct_link(uow, call_id, None, note="not about a return after all")
        uow.commit()
    assert not _one(fresh_db, "SELECT linked FROM call_facts WHERE call_id = %s", call_id)[0]
    with psycopg.connect(fresh_db, autocommit=True) as conn:  # a conversation escalated; a call's analytics edited
        conn.execute("UPDATE ai_conversation_state SET escalation_level = 2 WHERE id = "
                     "(SELECT ai_conversation_state_id FROM call_sessions WHERE id = %s)", (call_id,))
        conn.execute("UPDATE call_analytics SET metrics = metrics || '{\"call_successful\": \"failure\"}' "
                     "WHERE call_session_id = %s", (call_id,))
        conn.execute("UPDATE call_sessions SET status = 'failed', duration_seconds = 7 WHERE id IN "
                     "(SELECT id FROM call_sessions ORDER BY id LIMIT 5)")
        conn.execute("DELETE FROM call_analytics WHERE call_session_id IN (SELECT id FROM call_sessions ORDER BY id "
                     "OFFSET 5 LIMIT 3)")
    assert_tables_exact(fresh_db)
    assert_calls_match(owner)
    assert_calls_match(owner, evaluation="failure")
    assert_calls_match(actor_for("bloom", "owner"))


def test_members_read_only_their_business_summaries_and_write_none(fresh_db):
    bloom = actor_for("bloom", "owner")
    with unit_of_work(bloom) as uow:
        seen = uow.session.execute(text("SELECT DISTINCT business_id FROM return_daily_summary")).scalars().all()
        assert seen == [bloom.business_id]
        calls_seen = uow.session.execute(text("SELECT DISTINCT business_id FROM call_facts")).scalars().all()
        assert set(calls_seen) <= {bloom.business_id}
    with unit_of_work(bloom) as uow, pytest.raises(Exception, match="permission denied"):
        uow.session.execute(text("UPDATE return_daily_summary SET returns = returns + 1"))
