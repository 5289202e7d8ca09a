"""The customer risk score on hand-built histories: each factor moves it the right way, with its evidence;
recomputing is idempotent; the batch recompute scores every customer of a business and only that business."""
from __future__ import annotations

import psycopg
import pytest

from db.uow import unit_of_work
from dokani.errors import NotAllowed
from dokani.risk.scoring import BehaviorPatterns, FraudIndicators, recompute_business
from dokani.risk.weights import BY_NAME, SCORER_ID
from tests.conftest import actor_for
from tests.integration.risk_helpers import R, build, profile, score

# factor -> (the plain history, the same history with that one thing more risky, extra build arguments)
CASES = {
    "returns_30d": ([R()], [R(days_ago=5)], {}),
    "returns_90d": ([R()], [R(days_ago=60)], {}),
    "returns_365d": ([R(days_ago=400)], [R(days_ago=200)], {}),
    "return_rate": ([R()], [R()], {"orders": (10, 1)}),
    "refunded_value": ([R(status="approved", value=40)], [R(status="approved", value=290)], {}),
    "not_received": ([R(), R(order="o2")],
                     [R(reason="package never arrived"), R(order="o2", reason="it was not received")], {}),
    "not_as_described": ([R(), R(order="o2")],
                         [R(reason="not as described"), R(order="o2", reason="looks different from the picture")], {}),
    "quick_claims": ([R(days_after_purchase=10)], [R(days_after_purchase=1)], {}),
    "late_apparel": ([R(category="apparel", days_after_purchase=10)],
                     [R(category="apparel", days_after_purchase=28)], {}),
    "bracketing": ([R(order="o1", category="apparel"), R(order="o2", category="apparel")],
                   [R(order="o1", category="apparel"), R(order="o1", category="apparel")], {}),
    "high_value": ([R(value=120)], [R(value=450)], {}),
    "denied": ([R()], [R(status="denied")], {}),
    "fraud_flags": ([R(flags={"address_mismatch": False})], [R(flags={"address_mismatch": True})], {}),
    "open_events": ([R()], [R()], {"events": ([False], [True])}),
}


def test_every_weight_has_a_case():
    assert set(CASES) == set(BY_NAME)


def test_each_factor_moves_the_score_up_with_its_evidence(fresh_db, atlas_reviewer):
    bid = atlas_reviewer.business_id
    for name, (plain, risky, extra) in CASES.items():
        kw_plain = {k: v[0] for k, v in extra.items()}
        kw_risky = {k: v[1] for k, v in extra.items()}
        a, b = f"{name}-plain@hand.test", f"{name}-risky@hand.test"
        build(fresh_db, bid, a, plain, **kw_plain)
        risky_ids = build(fresh_db, bid, b, risky, **kw_risky)
        score(atlas_reviewer, a, b)
        pa, pb = profile(fresh_db, bid, a), profile(fresh_db, bid, b)
        assert pb[0] > pa[0], f"{name}: {pb[0]} should be above {pa[0]}"
        patterns = BehaviorPatterns.model_validate(pb[3])
        factor = next((f for f in patterns.factors if f.name == name), None)
        assert factor is not None and factor.contribution > 0, name
        assert factor.contribution <= BY_NAME[name].cap
        if name == "open_events":
            assert len(factor.events) == 1
        elif name not in ("return_rate",):
            assert set(factor.returns) <= set(risky_ids) and factor.returns, name
        plain_factor = next((f for f in BehaviorPatterns.model_validate(pa[3]).factors if f.name == name), None)
        assert plain_factor is None or plain_factor.contribution < factor.contribution, name
        assert pb[0] == pytest.approx(min(1.0, sum(f.contribution for f in patterns.factors)), abs=1e-6)


def test_indicators_and_frequency_are_typed(fresh_db, atlas_reviewer):
    bid = atlas_reviewer.business_id
    build(fresh_db, bid, "flags@hand.test", [R(days_ago=3, flags={"evidence_reused": True}), R(order="o2", days_ago=9)])
    score(atlas_reviewer, "flags@hand.test")
    risk, frequency, indicators, patterns, _ = profile(fresh_db, bid, "flags@hand.test")
    assert FraudIndicators.model_validate(indicators).fraud_flags is True
    assert FraudIndicators.model_validate(indicators).bracketing is False
    assert frequency == 2 and BehaviorPatterns.model_validate(patterns).model == SCORER_ID


def test_recompute_twice_changes_nothing(fresh_db, atlas_reviewer):
    bid = atlas_reviewer.business_id
    with psycopg.connect(fresh_db) as c:  # profiles from elsewhere, never scored here (the seed scores everyone)
        c.execute("UPDATE customer_risk_profiles SET behavior_patterns = '{}'")
    with unit_of_work(atlas_reviewer) as uow:
        first = recompute_business(uow, chunk=7)
    with psycopg.connect(fresh_db) as c:
        snapshot = c.execute("SELECT customer_email, risk_score, fraud_indicators, behavior_patterns, last_updated, "
                             "xmin::text FROM customer_risk_profiles WHERE business_id = %s ORDER BY 1", (bid,)).fetchall()
        scored = c.execute("SELECT count(*) FROM customer_risk_profiles WHERE business_id = %s "
                           "AND behavior_patterns ->> 'model' = %s", (bid, SCORER_ID)).fetchone()[0]
        customers = c.execute("SELECT count(DISTINCT customer_email) FROM return_requests WHERE business_id = %s "
                              "AND NOT is_test", (bid,)).fetchone()[0]
        other = c.execute("SELECT count(*) FROM customer_risk_profiles WHERE business_id <> %s "
                          "AND behavior_patterns ->> 'model' = %s", (bid, SCORER_ID)).fetchone()[0]
    assert first.customers == scored >= customers > 0 and first.written == first.customers
    assert other == 0  # another business is not touched
    with unit_of_work(atlas_reviewer) as uow:
        second = recompute_business(uow, chunk=1000)
    assert second.customers == first.customers and second.written == 0
    with psycopg.connect(fresh_db) as c:
        again = c.execute("SELECT customer_email, risk_score, fraud_indicators, behavior_patterns, last_updated, "
                          "xmin::text FROM customer_risk_profiles WHERE business_id = %s ORDER BY 1", (bid,)).fetchall()
        audits = c.execute("SELECT count(*) FROM audit_log WHERE action = 'risk.recomputed' AND business_id = %s",
                           (bid,)).fetchone()[0]
    assert again == snapshot
    assert audits == 3  # the seed's, and these two


def test_viewers_and_testers_cannot_recompute(fresh_db):
    for slug in ("viewer", "tester"):
        with unit_of_work(actor_for("atlas", slug)) as uow:
            with pytest.raises(NotAllowed):
                recompute_business(uow)


def test_a_decision_and_a_triage_refresh_the_customer_they_touch(fresh_db, atlas_reviewer):
    from datetime import datetime

    from dokani.returns.decisions import decide_return
    from dokani.triage.service import triage_return

    bid = atlas_reviewer.business_id
    build(fresh_db, bid, "decided@hand.test", [R(), R(order="o2", status="pending_triage")])
    with psycopg.connect(fresh_db) as c:
        (rid, version), (new_id, _) = c.execute(
            "SELECT id, xmin::text FROM return_requests WHERE customer_email = 'decided@hand.test' ORDER BY id").fetchall()
    assert profile(fresh_db, bid, "decided@hand.test") is None  # never scored
    with unit_of_work(atlas_reviewer) as uow:
        decide_return(uow, rid, "deny", expected_version=version, note="serial returner")
    denied = BehaviorPatterns.model_validate(profile(fresh_db, bid, "decided@hand.test")[3])
    assert [f.returns for f in denied.factors if f.name == "denied"] == [[rid]]

    with unit_of_work(atlas_reviewer) as uow:
        triage_return(uow, new_id)
    risk, _, _, patterns, updated = profile(fresh_db, bid, "decided@hand.test")
    assert BehaviorPatterns.model_validate(patterns).returns == 2 and updated <= datetime.utcnow()
    with psycopg.connect(fresh_db) as c:
        used = c.execute("SELECT triage_details FROM return_requests WHERE id = %s", (new_id,)).fetchone()[0]
    assert used["rules_fired"]
