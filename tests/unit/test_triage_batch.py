"""Batch evaluation gives every return exactly the recommendation the per-return engine gives it.

A backtest evaluates the engine once per class of returns that decide alike (``dokani.triage.batch``); a return
put in the wrong class would be counted with the wrong outcome. Hypothesis draws many returns at once (so classes are
shared, and a class's first return stands for the others) close to every threshold, under two drawn policies.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from types import SimpleNamespace
from uuid import uuid4

from hypothesis import given, settings
from hypothesis import strategies as st

from dokani.policies.rules import KNOWN_CATEGORIES, KNOWN_EVIDENCE, KNOWN_REASONS, PolicyRules
from dokani.triage.batch import BatchEvaluator, recommend_many
from dokani.triage.engine import evaluate
from dokani.triage.facts import to_facts

NOW = datetime(2026, 12, 1, 12, 0)
REASONS = ["It arrived damaged", "stopped working after a day", "wrong item sent", "too small", "I changed my mind",
           "arrived late", "not as described", "no idea", None, "looks different from the picture, and it is broken"]
URLS = ["https://e.example/p.jpg", "https://e.example/v.mp4", "https://e.example/receipt.pdf",
        "https://e.example/notes.txt", "https://e.example/P.PNG?x=1"]
FLAGS = ["address_mismatch", "velocity", "serial_mismatch"]
THRESHOLDS = [0.0, 50.0, 75.0, 100.0, 250.0, 500.0, 750.0]


def _as_sent(value):
    """JSON objects come from the facts query as text."""
    return None if value is None else json.dumps(value)


def _value():
    near = st.sampled_from(THRESHOLDS).flatmap(lambda t: st.sampled_from([t - 0.01, t, t + 0.01]))
    return st.one_of(near, st.floats(min_value=0, max_value=1200, allow_nan=False), st.none())


@st.composite
def rows(draw):
    purchase = draw(st.none() | st.integers(0, 120))
    known = draw(st.booleans())
    lists = draw(st.lists(st.sampled_from(["trusted", "watchlist", "blocklist"]), max_size=3, unique=True))
    return SimpleNamespace(
        id=draw(st.integers(1, 10**9)), public_id=uuid4(), created_at=NOW, status="approved",
        customer_email="c@example.com", order_id="ORD-1",
        reason_for_return=draw(st.sampled_from(REASONS)),
        evidence_urls=draw(st.lists(st.sampled_from(URLS), max_size=3)),
        fraud_flags=_as_sent(draw(st.dictionaries(st.sampled_from(FLAGS),
                                                  st.sampled_from([True, False, 1, 0, "yes", None, [], [1]]), max_size=3))
                             or draw(st.sampled_from([None, {}]))),
        request_value=draw(_value()), request_days=draw(st.none() | st.integers(0, 120)),
        request_category=draw(st.none() | st.sampled_from(KNOWN_CATEGORIES)),
        ai_recommendation=None, policy_version_used=None,
        previous_returns=draw(st.integers(0, 12)), previous_denied=draw(st.integers(0, 8)),
        returns_30d=draw(st.integers(0, 8)),
        order_value_known=draw(_value()) if known else None,
        category_known=draw(st.none() | st.sampled_from(KNOWN_CATEGORIES)) if known else None,
        purchase_date=NOW - timedelta(days=purchase, hours=draw(st.integers(0, 23))) if known and purchase is not None
        else None,
        order_known=known,
        # few distinct scores, so that returns share classes and one return's evaluation stands for others
        profile_risk_score=draw(st.none() | st.sampled_from([0.0, 0.1, 0.35, 0.5, 0.85, 0.9, 1.0]) | st.floats(0, 1)),
        return_frequency=None,
        fraud_indicators=_as_sent(draw(st.dictionaries(
            st.sampled_from(["fraud_flags", "bracketing", "repeated_not_received"]), st.booleans(), max_size=3)) or None),
        lists=[{"list": k, "match": "email", "value": "c@example.com", "note": None, "expires_at": None} for k in lists]
        or None,
        override_band=draw(st.none() | st.sampled_from(["low", "medium", "high"])),
        override_reason=None, override_expires=None,
    )


@st.composite
def families(draw):
    """Returns that differ from a first one in one or two facts: they share classes, and one fact decides."""
    base = draw(rows())
    out = [base]
    for _ in range(draw(st.integers(0, 40))):
        other = draw(rows())
        fields = draw(st.lists(st.sampled_from(sorted(vars(base))), min_size=1, max_size=2, unique=True))
        out.append(SimpleNamespace(**{**vars(base), **{f: getattr(other, f) for f in fields}}))
    return out


@st.composite
def policies(draw):
    approve = draw(st.sampled_from(THRESHOLDS[:-1]))
    approve_max = draw(st.sampled_from([0.2, 0.35, 0.5]))
    overrides = draw(st.dictionaries(
        st.sampled_from(KNOWN_CATEGORIES),
        st.fixed_dictionaries({"return_window_days": st.none() | st.integers(0, 90), "final_sale": st.booleans(),
                               "restocking_fee_pct": st.none() | st.floats(0, 30)}), max_size=3))
    return PolicyRules(
        return_window_days=draw(st.integers(0, 90)),
        auto_approve_threshold=approve,
        auto_escalation_threshold=draw(st.sampled_from([t for t in THRESHOLDS if t >= approve])),
        required_evidence=draw(st.lists(st.sampled_from(KNOWN_EVIDENCE), max_size=2, unique=True)),
        acceptable_reasons=draw(st.lists(st.sampled_from(KNOWN_REASONS), max_size=8, unique=True)),
        high_risk_categories=draw(st.lists(st.sampled_from(KNOWN_CATEGORIES), max_size=3, unique=True)),
        fraud_flags=draw(st.lists(st.sampled_from(FLAGS), max_size=2, unique=True)),
        risk_thresholds={"auto_approve_max": approve_max,
                         "auto_deny_min": draw(st.sampled_from([d for d in (0.4, 0.6, 0.85, 0.95) if d > approve_max]))},
        category_overrides=overrides,
    )


def _one_by_one(items, rules_list):
    return [tuple(evaluate(to_facts(r).facts, rules).recommendation for rules in rules_list) for r in items]


@settings(max_examples=300)
@given(st.lists(rows(), min_size=1, max_size=60), policies(), policies())
def test_every_return_gets_what_the_engine_gives_it(items, baseline, candidate):
    assert recommend_many(items, [baseline, candidate]) == _one_by_one(items, [baseline, candidate])


@settings(max_examples=300)
@given(families(), policies(), policies())
def test_returns_that_differ_in_one_fact_each_get_their_own_recommendation(items, baseline, candidate):
    assert recommend_many(items, [baseline, candidate]) == _one_by_one(items, [baseline, candidate])


@settings(max_examples=20)
@given(rows())
def test_returns_that_decide_alike_are_evaluated_once(base):
    same = [SimpleNamespace(**{**vars(base), "id": i, "public_id": uuid4()}) for i in range(200)]
    rules = PolicyRules()
    evaluator = BatchEvaluator([rules])
    got = [evaluator.recommend(evaluator.read(r)) for r in same]
    assert got == _one_by_one(same, [rules])
    assert evaluator.evaluations == 1
