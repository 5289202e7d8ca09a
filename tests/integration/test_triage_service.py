"""Triage written back to Postgres: columns, status moves, security events without duplicates, audit rows."""
from __future__ import annotations

import psycopg
import pytest

from db.uow import unit_of_work
from dokani.errors import NotAllowed
from dokani.triage.engine import ENGINE_ID
from dokani.triage.service import triage_pending, triage_return
from tests.conftest import actor_for


def _one(url: str, sql: str, *params):
    with psycopg.connect(url) as conn:
        return conn.execute(sql, params).fetchone()


def _all(url: str, sql: str, *params):
    with psycopg.connect(url) as conn:
        return conn.execute(sql, params).fetchall()


def test_bulk_triage_moves_every_new_return_and_writes_every_column(fresh_db, atlas_reviewer):
    bid = atlas_reviewer.business_id
    before = _one(fresh_db, "SELECT count(*) FROM return_requests WHERE business_id = %s AND status = 'pending_triage'", bid)[0]
    waiting = [r[0] for r in _all(fresh_db, "SELECT id FROM return_requests WHERE business_id = %s "
                                            "AND status = 'pending_triage'", bid)]
    assert before > 0
    seen: list[tuple[int, int]] = []
    with unit_of_work(atlas_reviewer) as uow:
        summary = triage_pending(uow, progress=lambda done, total: seen.append((done, total)), batch_size=7)
    assert summary.total == before == summary.triaged
    assert summary.auto_approved + summary.auto_denied + summary.to_review == before
    assert seen[0] == (0, before) and seen[-1] == (before, before)
    assert len(seen) == 1 + -(-before // 7)  # one report per batch

    left = _one(fresh_db, "SELECT count(*) FROM return_requests WHERE business_id = %s AND status = 'pending_triage'", bid)[0]
    assert left == 0
    rows = _all(
        fresh_db,
        """SELECT r.status, r.ai_recommendation, r.ai_reasoning, r.ai_confidence, r.triage_details, r.risk_score,
                  r.policy_version_used, r.triage_agent_id, r.processing_time_ms, r.order_value, r.product_category,
                  r.days_since_purchase, m.order_value, m.product_category, r.approved_at, r.denied_at
           FROM return_requests r LEFT JOIN mock_orders m ON m.order_id = r.order_id
           WHERE r.business_id = %s AND r.triage_agent_id = %s AND r.id = ANY(%s)""",
        bid, ENGINE_ID, waiting,
    )
    assert len(rows) == before
    active = _one(fresh_db, "SELECT version FROM policies WHERE business_id = %s AND is_active", bid)[0]
    for (status, rec, reasoning, conf, details, risk, version, agent, ms, value, cat, days, m_value, m_cat,
         approved_at, denied_at) in rows:
        assert {"auto_approve": "approved", "auto_deny": "denied", "human_review": "pending_review"}[rec] == status
        assert reasoning and 0.5 <= float(conf) <= 0.99
        assert details["rules_fired"] and details["policy_version"] == version == active
        assert any(c["rule"] == "return_window" for c in details["rules_fired"])
        assert 0 <= float(risk) <= 1 and ms >= 1 and days is not None
        if m_value is not None:  # known order: the order's facts are written back
            assert float(value) == pytest.approx(float(m_value)) and cat == m_cat
        assert (approved_at is not None) == (status == "approved")
        assert (denied_at is not None) == (status == "denied")
    audits = _one(fresh_db, "SELECT count(*) FROM audit_log WHERE entity = 'return_requests' AND action = 'triage' "
                            "AND business_id = %s AND actor_id = %s AND entity_id = ANY(%s)", bid,
                  atlas_reviewer.user_id, [str(r) for r in waiting])[0]
    assert audits == before


def test_risk_scores_are_computed_not_constant(fresh_db, atlas_owner):
    with unit_of_work(atlas_owner) as uow:
        triage_pending(uow)
    scores = _all(fresh_db, "SELECT DISTINCT risk_score FROM return_requests WHERE triage_agent_id = %s", ENGINE_ID)
    assert len(scores) > 3


def _new_return(url: str, business_id, email: str, order_id: str, reason: str, flags: str = "{}") -> int:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "INSERT INTO return_requests (business_id, order_id, customer_email, reason_for_return, status, fraud_flags, "
            "evidence_urls, created_at) VALUES (%s, %s, %s, %s, 'pending_triage', %s::jsonb, "
            "ARRAY['https://x.example/p.jpg'], timezone('utc', now())) RETURNING id",
            (business_id, order_id, email, reason, flags),
        ).fetchone()[0]


def test_suspicious_return_opens_security_events_once(fresh_db, atlas_owner):
    bid = atlas_owner.business_id
    rid = _new_return(fresh_db, bid, "sly@example.com", "NO-SUCH-ORDER", "it arrived broken",
                      '{"address_mismatch": true, "evidence_reused": true}')
    with unit_of_work(atlas_owner) as uow:
        first = triage_return(uow, rid)
    assert first.status_after == "pending_review" or first.status_after == "denied"
    assert {"unknown_order", "return_fraud_flags"} <= set(first.security_events_opened)
    if first.status_after == "pending_review":  # a second evaluation opens nothing new
        with unit_of_work(atlas_owner) as uow:
            again = triage_return(uow, rid)
        assert again.security_events_opened == []
        assert again.status_after == "pending_review"
    events = _all(fresh_db, "SELECT event_type, count(*) FROM security_events WHERE return_request_id = %s "
                            "GROUP BY event_type", rid)
    assert all(n == 1 for _, n in events) and {"unknown_order", "return_fraud_flags"} <= {t for t, _ in events}


def test_decided_returns_are_not_triaged_again(fresh_db, atlas_owner):
    rid = _one(fresh_db, "SELECT id FROM return_requests WHERE business_id = %s AND status = 'approved' LIMIT 1",
               atlas_owner.business_id)[0]
    with unit_of_work(atlas_owner) as uow, pytest.raises(NotAllowed):
        triage_return(uow, rid)


def test_testers_cannot_triage(fresh_db):
    tester = actor_for("atlas", "tester")
    seeded = _one(fresh_db, "SELECT count(*) FROM audit_log WHERE action = 'triage'")[0]  # the seed's triage runs
    with unit_of_work(tester) as uow, pytest.raises(NotAllowed):
        triage_pending(uow)
    left = _one(fresh_db, "SELECT count(*) FROM audit_log WHERE action = 'triage'")[0]
    assert left == seeded


def test_triage_under_a_named_policy_version(fresh_db, atlas_owner):
    rid = _new_return(fresh_db, atlas_owner.business_id, "a@example.com", "X-1", "it is too small")
    with unit_of_work(atlas_owner) as uow:
        out = triage_return(uow, rid, policy_version="v1.0")
    assert out.policy_version == "v1.0"
    assert _one(fresh_db, "SELECT policy_version_used FROM return_requests WHERE id = %s", rid)[0] == "v1.0"


def test_engine_reading_explains_an_untraced_return_without_writing(fresh_db, atlas_reviewer):
    from dokani.policies.rules import load_policy
    from dokani.triage.facts import facts_for_return
    from dokani.triage.engine import evaluate
    from dokani.triage.service import engine_reading

    bid = atlas_reviewer.business_id
    with psycopg.connect(fresh_db) as conn:  # a return triaged before this engine stored rule traces
        conn.execute("UPDATE return_requests SET triage_details = NULL WHERE id = (SELECT min(id) FROM return_requests "
                     "WHERE business_id = %s AND status = 'pending_review')", (bid,))
    rid, version = _one(fresh_db, "SELECT id, policy_version_used FROM return_requests WHERE business_id = %s AND "
                                  "status = 'pending_review' AND triage_details IS NULL AND policy_version_used "
                                  "IS NOT NULL ORDER BY id LIMIT 1", bid)
    before = _one(fresh_db, "SELECT r::text FROM return_requests r WHERE id = %s", rid)[0]
    audit_rows = _one(fresh_db, "SELECT count(*) FROM audit_log")[0]
    with unit_of_work(atlas_reviewer) as uow:
        reading = engine_reading(uow, rid, version)
        expected = evaluate(facts_for_return(uow.session, bid, rid).facts, load_policy(uow.session, bid, version).rules)
    assert reading.policy_version == version and not reading.fell_back
    assert reading.result == expected  # the engine's own answer, every clause with its inputs
    assert any(c.rule == "return_window" and c.inputs for c in reading.result.rules_fired)
    assert _one(fresh_db, "SELECT r::text FROM return_requests r WHERE id = %s", rid)[0] == before  # nothing written
    assert _one(fresh_db, "SELECT count(*) FROM audit_log")[0] == audit_rows

    with unit_of_work(atlas_reviewer) as uow:  # a version that no longer exists: read under the active one
        gone = engine_reading(uow, rid, "v-deleted")
    active = _one(fresh_db, "SELECT version FROM policies WHERE business_id = %s AND is_active", bid)[0]
    assert gone.fell_back and gone.policy_version == active and gone.asked_version == "v-deleted"
