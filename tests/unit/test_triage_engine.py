"""The triage engine: deterministic, explainable, and never a constant."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from dokani.policies.rules import PolicyRules
from dokani.returns.evidence import classify_evidence, transcript_of
from dokani.triage.engine import CustomerHistory, ReturnFacts, evaluate

RULES = PolicyRules(
    return_window_days=30, auto_approve_threshold=100, auto_escalation_threshold=500, required_evidence=["photo"],
    high_risk_categories=["electronics"], fraud_flags=["address_mismatch"],
    category_overrides={"beauty": {"final_sale": True}},
)


def facts(**kw) -> ReturnFacts:
    base = dict(order_value=40.0, days_since_purchase=5, product_category="apparel", reason_text="it arrived damaged",
                evidence_urls=["https://e.example/p.jpg"])
    base.update(kw)
    return ReturnFacts(**base)


def rules_fired(result) -> dict[str, str]:
    return {c.rule: c.outcome for c in result.rules_fired}


def test_clean_cheap_return_is_auto_approved_with_its_reasons():
    r = evaluate(facts(), RULES)
    assert r.recommendation == "auto_approve" and r.status == "approved"
    fired = rules_fired(r)
    assert fired["return_window"] == "pass" and fired["acceptable_reasons"] == "pass"
    assert fired["required_evidence"] == "pass" and fired["auto_approve_threshold"] == "pass"
    assert r.policy_violations == [] and r.reason_code == "damaged"


def test_outside_the_window_is_denied_by_policy():
    r = evaluate(facts(days_since_purchase=45), RULES)
    assert r.recommendation == "auto_deny" and "outside_return_window" in r.policy_violations
    window = next(c for c in r.rules_fired if c.rule == "return_window")
    assert window.inputs == {"days_since_purchase": 45, "window_days": 30, "category": "apparel"}


def test_final_sale_category_and_unaccepted_reason():
    assert "final_sale" in evaluate(facts(product_category="beauty"), RULES).policy_violations
    strict = RULES.model_copy(update={"acceptable_reasons": ["damaged"]})
    r = evaluate(facts(reason_text="I changed my mind"), strict)
    assert r.recommendation == "auto_deny" and "reason_not_accepted" in r.policy_violations


def test_missing_evidence_goes_to_a_person():
    r = evaluate(facts(evidence_urls=[]), RULES)
    assert r.recommendation == "human_review" and "missing_evidence:photo" in r.policy_violations


def test_value_above_escalation_threshold_needs_review():
    r = evaluate(facts(order_value=900), RULES)
    assert r.recommendation == "human_review" and rules_fired(r)["auto_escalation_threshold"] == "flag"


def test_watched_fraud_flag_stops_auto_approval():
    r = evaluate(facts(fraud_flags={"address_mismatch": True}), RULES)
    assert r.recommendation == "human_review" and r.fraud_flags == {"address_mismatch": True}
    assert rules_fired(r)["fraud_flags"] == "flag"


def test_risk_grows_with_history_and_high_risk_denies():
    quiet = evaluate(facts(), RULES).risk_score
    busy = evaluate(facts(history=CustomerHistory(previous_returns=4, previous_denied=2, recent_returns_30d=3)), RULES)
    assert busy.risk_score > quiet
    worst = evaluate(facts(product_category="electronics", fraud_flags={"a": True, "b": True},
                           history=CustomerHistory(previous_returns=9, previous_denied=4, recent_returns_30d=5,
                                                   profile_risk_score=0.95, fraud_indicators={"chargebacks": 3})), RULES)
    assert worst.risk_score >= RULES.risk_thresholds.auto_deny_min and worst.recommendation == "auto_deny"
    assert any("high-risk category electronics" in f for f in worst.risk_factors)


history = st.builds(CustomerHistory, previous_returns=st.integers(0, 30), previous_denied=st.integers(0, 10),
                    recent_returns_30d=st.integers(0, 10),
                    profile_risk_score=st.none() | st.floats(0, 1, allow_nan=False))
any_facts = st.builds(
    ReturnFacts, order_value=st.floats(0, 5000, allow_nan=False), days_since_purchase=st.none() | st.integers(0, 400),
    product_category=st.sampled_from([None, "apparel", "electronics", "beauty", "home"]),
    reason_text=st.sampled_from([None, "broken", "too small", "changed my mind", "???", "<script>x</script>"]),
    evidence_urls=st.lists(st.sampled_from(["https://e/p.jpg", "https://e/v.mp4", "https://e/receipt.pdf"]), max_size=3),
    fraud_flags=st.dictionaries(st.sampled_from(["address_mismatch", "evidence_reused"]), st.booleans(), max_size=2),
    order_known=st.booleans(), history=history,
)


@settings(max_examples=200, deadline=None)
@given(any_facts)
def test_every_result_is_bounded_explained_and_deterministic(f):
    a, b = evaluate(f, RULES), evaluate(f, RULES)
    assert a == b
    assert 0 <= a.risk_score <= 1 and 0.5 <= a.confidence <= 0.99
    assert a.rules_fired and a.reasoning.startswith(a.recommendation.replace("_", " "))
    assert {"return_window", "acceptable_reasons", "risk_thresholds"} <= {c.rule for c in a.rules_fired}
    if a.recommendation == "auto_approve":
        assert a.policy_violations == [] and f.order_value <= RULES.auto_approve_threshold


def test_evidence_only_http_links_are_links_or_images():
    assert classify_evidence("https://x.example/a.JPG").kind == "image"
    assert classify_evidence("http://x.example/clip.mp4").kind == "video"
    assert classify_evidence("https://x.example/receipt-1").kind == "document"
    for bad in ("javascript:alert(1)", "data:image/png;base64,AAAA", "file:///etc/passwd", "//evil.example/a.png", ""):
        assert classify_evidence(bad).kind == "unsafe" and not classify_evidence(bad).is_web


def test_conversation_logs_of_any_shape_become_turns():
    assert [(t.speaker, t.text) for t in transcript_of([{"role": "customer", "text": "hi"}, {"sender": "agent", "message": "yo"}])] == [
        ("customer", "hi"), ("agent", "yo")]
    assert transcript_of({"messages": [{"speaker": "bot", "content": "x", "timestamp": "t"}]})[0].at == "t"
    assert transcript_of("plain words")[0].text == "plain words"
    assert transcript_of(None) == []
