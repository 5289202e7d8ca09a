"""Classes of returns grouped by Postgres (``dokani.triage.classes``) decide every return as the engine does.

A backtest reads the engine's inputs in SQL and groups returns by them; a return read differently there would be
counted with the wrong outcome. Hypothesis writes returns whose facts sit on every edge the SQL reading has to get
right (non-ASCII words and links, links with line breaks, JSON flags of every type, half-way profile scores, bands
set by hand, lists, unknown orders, missing history rows) and compares the backtest by classes with the one that
evaluates every return.
"""
from __future__ import annotations

import json
import logging
import random
from datetime import datetime, timedelta
from decimal import Decimal

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from db.demo import business
from db.uow import unit_of_work
from dokani.policies import backtest
from dokani.policies.rules import KNOWN_CATEGORIES, PolicyRules
from dokani.triage import classes
from tests.conftest import actor_for
from tests.integration.policy_helpers import BASE_RULES, add_policy, make_business
from tests.unit.test_triage_batch import THRESHOLDS, policies

NOW = datetime.utcnow().replace(microsecond=0)
EMAILS = ["a@example.com", "B@example.com", "c@example.com"]
WORDS = ["It arrived damaged", "stopped working after a day", "wrong item sent", "too small", "I changed my mind",
         "arrived late", "no idea", None, "", "Es ist beschädigt", "ÜBERHAUPT too small", "DAMAGED İtem",
         "looks different from the picture, and it is broken", "Gift. ¿Size?",
         "The SİZE is off"]
URLS = ["https://e.example/p.jpg", "https://e.example/P.JPEG?x=1", "https://e.example/v.MP4", "https://e.example/receipt",
        "https://e.example/Scan.PDF", "https://e.example/a.jpg.txt", "https://e.example/notes.txt",
        "https://e.example/x.jpg\n", "https://e.example/ü.png", "https://e.example/RECEİPT.pdf",
        "https://e.example/a.pdf?dl=1", "https://e.example/b.webm?", "https://e.example/RECEİPT",
        "https://e.example/a.jpg\nb.txt"]
# JSON values as text: every type, and numbers Python reads as 0.0
VALUES = ["true", "false", "1", "0", "0.0", "-0.0", '"yes"', '""', "null", "[]", "[1]", "{}", '{"a": 1}', "1e-400",
          "2.5e-7"]
FLAG_NAMES = ["address_mismatch", "velocity", "serial_mismatch"]
SCORES = [None, "0.125", "0.175", "0.5", "0.005", "0.0625", "1", "0", "0.3335", "0.12345678901", "0.995", "1.5",
          "-0.2", "NaN", "0.35", "0.85", "0.9"]


def _json_object(draw, names) -> str:
    if draw(st.integers(0, 9)) == 0:
        return draw(st.sampled_from(["[]", '"x"', "null", "3"]))
    keys = draw(st.lists(st.sampled_from(names), max_size=3, unique=True))
    return "{" + ", ".join(f'"{k}": {draw(st.sampled_from(VALUES))}' for k in keys) + "}"


def _value(draw):
    near = draw(st.sampled_from(THRESHOLDS)) + draw(st.sampled_from([-0.01, 0, 0.01]))
    return draw(st.sampled_from([None, Decimal(str(max(near, 0))), Decimal(str(draw(st.integers(0, 1200))))]))


@st.composite
def worlds(draw):
    """Customers (profiles, overrides, lists) and their returns (orders, history rows)."""
    customers = {}
    for email in EMAILS:
        customers[email] = {
            "score": draw(st.sampled_from(SCORES)),
            "profile": draw(st.booleans()),
            "indicators": _json_object(draw, ["fraud_flags", "bracketing", "repeated_not_received"]),
            "band": draw(st.sampled_from([None, None, "low", "medium", "high"])),
            "lists": draw(st.lists(st.sampled_from(["trusted", "watchlist", "blocklist"]), max_size=2, unique=True)),
        }
    returns = []
    for n in range(draw(st.integers(1, 40))):
        known = draw(st.booleans())
        returns.append({
            "email": draw(st.sampled_from(EMAILS)),
            "order": f"ORD-{n}",
            "created": NOW - timedelta(days=draw(st.integers(0, 90)), hours=draw(st.integers(0, 23))),
            "words": draw(st.sampled_from(WORDS)),
            "urls": draw(st.none() | st.lists(st.sampled_from(URLS), max_size=3)),
            "flags": _json_object(draw, FLAG_NAMES),
            "value": _value(draw), "days": draw(st.none() | st.integers(0, 120)),
            "category": draw(st.sampled_from([None, "", "garden", *KNOWN_CATEGORIES])),
            "status": draw(st.sampled_from(["approved", "completed", "denied", "pending_review", "escalated", None])),
            "known": known,
            "order_value": _value(draw), "order_category": draw(st.sampled_from(["", *KNOWN_CATEGORIES])),
            "bought": draw(st.integers(0, 100)), "hours": draw(st.integers(0, 23)),
            "shared_order": draw(st.booleans()),
            "order_listed": draw(st.sampled_from([None, None, "trusted", "watchlist", "blocklist"])),
            "history": draw(st.none() | st.tuples(*[st.integers(0, 8)] * 5)),
        })
    return customers, returns


def _write(url: str, customers: dict, returns: list[dict]) -> None:
    bid = business("atlas").business_id
    with psycopg.connect(url) as c:
        c.execute("TRUNCATE return_requests, mock_orders, customer_risk_profiles, risk_list_entries, "
                  "risk_band_overrides CASCADE")
        for email, cu in customers.items():
            if cu["profile"]:
                c.execute("INSERT INTO customer_risk_profiles (customer_email, business_id, risk_score, fraud_indicators) "
                          "VALUES (%s, %s, %s, %s)", (email, bid, cu["score"], cu["indicators"]))
            if cu["band"]:
                c.execute("INSERT INTO risk_band_overrides (business_id, customer_email, band, reason) "
                          "VALUES (%s, %s, %s, 'test')", (bid, email, cu["band"]))
            for kind in cu["lists"]:
                c.execute("INSERT INTO risk_list_entries (business_id, list_kind, match_kind, value) "
                          "VALUES (%s, %s, 'email', %s)", (bid, kind, email.lower()))
        for r in returns:
            if r["known"]:
                c.execute("INSERT INTO mock_orders (order_id, purchase_date, customer_email, product_name, "
                          "product_category, order_value, business_id) VALUES (%s, %s, %s, 'Thing', %s, %s, %s)",
                          (r["order"], r["created"] - timedelta(days=r["bought"], hours=r["hours"]), r["email"],
                           r["order_category"], r["order_value"], None if r["shared_order"] else bid))
            if r["order_listed"]:
                c.execute("INSERT INTO risk_list_entries (business_id, list_kind, match_kind, value) "
                          "VALUES (%s, %s, 'order', %s)", (bid, r["order_listed"], r["order"]))
            rid = c.execute(
                "INSERT INTO return_requests (business_id, order_id, customer_email, reason_for_return, status, "
                "created_at, order_value, product_category, days_since_purchase, fraud_flags, evidence_urls) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
                (bid, r["order"], r["email"], r["words"], r["status"], r["created"], r["value"], r["category"],
                 r["days"], r["flags"], r["urls"])).fetchone()[0]
            if r["history"] is not None:
                c.execute("INSERT INTO return_history (return_id, business_id, prior_returns, prior_30d, prior_90d, "
                          "prior_365d, prior_denied) VALUES (%s, %s, %s, %s, %s, %s, %s)", (rid, bid, *r["history"]))


def _both_ways(url: str, base: PolicyRules, cand: PolicyRules, since=None):
    with psycopg.connect(url, autocommit=True) as c:
        c.execute("DELETE FROM policies")
    base_id = add_policy(url, "atlas", "base", base.to_json())
    cand_id = add_policy(url, "atlas", "cand", cand.to_json())
    with unit_of_work(actor_for("atlas", "admin")) as uow:
        by_class = backtest.backtest_policy(uow, cand_id, baseline_policy_id=base_id, since=since, store=False)
        by_row = backtest.backtest_policy(uow, cand_id, baseline_policy_id=base_id, since=since, store=False,
                                          by_class=False)
    return by_class, by_row


@pytest.fixture
def atlas(empty_db):
    make_business(empty_db, "atlas")
    return empty_db


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(worlds(), policies(), policies(), st.sampled_from([None, 30]))
def test_classes_count_every_return_as_the_engine_decides_it(atlas, caplog, world, base, cand, days):
    customers, returns = world
    _write(atlas, customers, returns)
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger=backtest.log.name):
        by_class, by_row = _both_ways(atlas, base, cand, since=None if days is None else NOW - timedelta(days=days))
    assert not caplog.records, "the classes disagreed with the engine"  # no fallback: the classes were right
    assert by_class.model_dump() == by_row.model_dump()


def test_the_profile_score_counts_in_thousandths_as_the_engine_rounds_it(atlas):
    """round(0.30 * score, 3) in floats: half-way scores (three decimals ending in 5) go up or down by the float."""
    rng = random.Random(5)
    scores = ([Decimal(k) / 1000 for k in range(1001)] + [Decimal(k) / 10000 for k in range(10001)]
              + [Decimal(rng.randint(0, 10**10)) / 10**10 for _ in range(2000)])
    sql = (f"SELECT f.score, CASE WHEN {classes._PLAIN_SCORE} THEN {classes._PROFILE_MILLI} END "
           "FROM unnest(CAST(%s AS numeric[])) AS f(score)")
    with psycopg.connect(atlas) as c:
        got = dict(c.execute(sql, (scores,)).fetchall())
    wrong = [s for s in scores if got[s] != round(round(0.30 * float(s), 3) * 1000)]
    assert not wrong, wrong[:10]


def test_thresholds_in_thousandths_are_where_the_engine_compares_its_float_score():
    for deny, approve in [(0.85, 0.35), (0.9, 0.3), (0.6, 0.2), (0.8500000000000001, 0.3499999999999999)]:
        rules = PolicyRules(risk_thresholds={"auto_deny_min": deny, "auto_approve_max": approve})
        k_deny, k_approve = classes.milli_cutoffs(rules)
        assert all((k / 1000 >= deny) == (k >= k_deny) for k in range(1001))
        assert all((k / 1000 <= approve) == (k <= k_approve) for k in range(1001))


def test_a_class_that_reads_otherwise_than_the_engine_falls_back_to_every_return(atlas, monkeypatch, caplog):
    """A drifted SQL reading (here: no photo is ever seen) is caught on the returns evaluated, and the backtest
    replays return by return instead: the result is still the engine's."""
    rng = random.Random(2)
    returns = [{"email": rng.choice(EMAILS), "order": f"ORD-{n}", "created": NOW - timedelta(days=n % 20),
                "words": "It arrived damaged", "urls": ["https://e.example/p.jpg"], "flags": "{}",
                "value": Decimal(40), "days": 3, "category": "home", "status": "approved", "known": False,
                "order_value": None, "order_category": "", "bought": 0, "hours": 0, "shared_order": False,
                "order_listed": None, "history": (0, 0, 0, 0, 0)} for n in range(30)]
    _write(atlas, {}, returns)
    monkeypatch.setitem(classes._PATTERNS, "photo", ("~*", "no-such-link"))
    photo = PolicyRules(**{**BASE_RULES, "required_evidence": ["photo"]})
    with caplog.at_level(logging.ERROR, logger=backtest.log.name):
        by_class, by_row = _both_ways(atlas, PolicyRules(**BASE_RULES), photo)
    assert any("disagree" in r.getMessage() for r in caplog.records)
    assert by_class.model_dump() == by_row.model_dump()
    assert by_class.after_counts["approve"] == 30
