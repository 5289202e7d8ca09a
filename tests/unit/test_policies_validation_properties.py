"""Property tests: the validator accepts exactly what the triage engine can evaluate.

Rules are generated field by field, each field either a value the engine can work with or one it
cannot (wrong type, negative window, unknown category, thresholds in the wrong order). Accepted rules
must evaluate on any return without error and survive a save / load round trip; rules with any bad
field must be refused, naming that field.
"""
from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dokani.policies.lifecycle import validate
from dokani.policies.rules import KNOWN_CATEGORIES, KNOWN_EVIDENCE, KNOWN_REASONS, validate_rules
from dokani.triage.engine import CustomerHistory, ReturnFacts, evaluate

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

money = st.floats(0, 5000, allow_nan=False)
good_fields = {
    "return_window_days": st.integers(0, 365),
    "required_evidence": st.lists(st.sampled_from(KNOWN_EVIDENCE), unique=True, max_size=3),
    "acceptable_reasons": st.lists(st.sampled_from(KNOWN_REASONS), unique=True, max_size=4),
    "high_risk_categories": st.lists(st.sampled_from(KNOWN_CATEGORIES), unique=True, max_size=3),
    "fraud_flags": st.lists(st.sampled_from(["serial_returner", "address_mismatch", "wardrobing"]), unique=True),
    "allow_voice_calls": st.booleans(),
    "max_call_duration": st.integers(1, 7200),
    "category_overrides": st.dictionaries(
        st.sampled_from(KNOWN_CATEGORIES),
        st.fixed_dictionaries({}, optional={"return_window_days": st.integers(0, 365),
                                            "restocking_fee_pct": st.floats(0, 100, allow_nan=False),
                                            "final_sale": st.booleans()}),
        max_size=3),
}
bad_fields = {
    "return_window_days": st.one_of(st.integers(max_value=-1), st.just("thirty"), st.just([30])),
    "required_evidence": st.one_of(st.just(["hologram"]), st.just("photo")),
    "acceptable_reasons": st.just(["because"]),
    "high_risk_categories": st.just(["spaceships"]),
    "fraud_flags": st.just(["Not A Flag!"]),
    "allow_voice_calls": st.just("maybe"),
    "max_call_duration": st.integers(max_value=0),
    "category_overrides": st.one_of(st.just({"spaceships": {"final_sale": True}}),
                                    st.just({"toys": {"return_window_days": -1}}),
                                    st.just({"toys": {"restocking_fee_pct": 150}})),
}


@st.composite
def rules_and_bad_fields(draw):
    raw, bad = {}, set()
    for field in good_fields:
        choice = draw(st.sampled_from(["omit", "good", "good", "bad"]))
        if choice == "good":
            raw[field] = draw(good_fields[field])
        elif choice == "bad":
            raw[field] = draw(bad_fields[field])
            bad.add(field)
    approve, escalate = draw(money), draw(money)
    raw["auto_approve_threshold"], raw["auto_escalation_threshold"] = approve, escalate
    if approve > escalate:
        bad.add("thresholds")
    low, high = draw(st.floats(0, 1, allow_nan=False)), draw(st.floats(0, 1, allow_nan=False))
    raw["risk_thresholds"] = {"auto_approve_max": low, "auto_deny_min": high}
    if low >= high:
        bad.add("risk_thresholds")
    if draw(st.booleans()):
        raw["x_vendor_setting"] = draw(st.text(max_size=5))  # unknown keys are allowed and kept
        if "\x00" in raw["x_vendor_setting"]:
            bad.add("x_vendor_setting")  # ... but not what Postgres cannot store
    return raw, bad


facts_strategy = st.builds(
    ReturnFacts,
    order_value=money,
    days_since_purchase=st.one_of(st.none(), st.integers(0, 400)),
    product_category=st.one_of(st.none(), st.sampled_from(KNOWN_CATEGORIES + ("garden",))),
    reason_text=st.one_of(st.none(), st.sampled_from(["It arrived damaged", "too small", "changed my mind", "meh"])),
    evidence_urls=st.lists(st.sampled_from(["a.jpg", "b.mp4", "receipt.pdf"]), max_size=2),
    fraud_flags=st.dictionaries(st.sampled_from(["serial_returner", "wardrobing"]), st.booleans(), max_size=2),
    history=st.builds(CustomerHistory, previous_returns=st.integers(0, 10), previous_denied=st.integers(0, 3),
                      recent_returns_30d=st.integers(0, 5),
                      profile_risk_score=st.one_of(st.none(), st.floats(0, 1, allow_nan=False))),
)


@FAST
@given(rules_and_bad_fields(), st.lists(facts_strategy, min_size=1, max_size=4))
def test_accepts_exactly_what_the_engine_can_evaluate(case, many_facts):
    raw, bad = case
    model, problems = validate_rules(raw)
    if bad:
        assert model is None and problems, f"accepted rules with bad {bad}"
        named = {p.split(".")[0] for p in problems}
        field_bad = bad - {"thresholds", "risk_thresholds"}
        if field_bad:
            assert named & field_bad, (problems, bad)
        return
    assert model is not None and not problems, problems
    for facts in many_facts:
        result = evaluate(facts, model)
        assert result.recommendation in ("auto_approve", "auto_deny", "human_review")
        assert 0.5 <= result.confidence <= 0.99
        if result.recommendation == "auto_approve":
            assert facts.order_value <= model.auto_approve_threshold
            assert result.risk_score <= model.risk_thresholds.auto_approve_max


@FAST
@given(rules_and_bad_fields())
def test_what_is_stored_validates_again_unchanged_and_keeps_unknown_keys(case):
    raw, bad = case
    stored, problems = validate(json.dumps(raw))
    if bad:
        assert stored is None and problems
        return
    assert problems == {}
    again, problems2 = validate(stored)
    assert problems2 == {} and again == stored
    if "x_vendor_setting" in raw:
        assert stored["x_vendor_setting"] == raw["x_vendor_setting"]


@FAST
@given(st.text(max_size=30))
def test_malformed_json_is_refused_not_crashed(text):
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    stored, problems = validate(text)
    if parsed is None or not isinstance(parsed, dict):
        assert stored is None and "json" in problems
