"""The faster risk scorer gives every customer the score and explanation the scorer before it gave; the Risk page's
ranking, filters and counts (from revision 0016's stored columns) say what the profiles say; a band override beats
the computed band in the ranking until it expires, with no write when it does."""
from __future__ import annotations

from datetime import datetime, timedelta

import psycopg
import pytest
from sqlalchemy import text

from db.uow import unit_of_work
from dokani.risk import lists, profiles
from dokani.risk.bands import band_of
from dokani.risk.scoring import recompute_business
from dokani.risk.weights import SCORER_ID
from tests.integration.risk_helpers import R, build, profile, score
from tests.integration.risk_reference import REFERENCE_SQL

HISTORIES = {  # one customer per kind of history, so every factor and its evidence is compared
    "many-recent@rank.test": [R(days_ago=d, order=f"o{i + 1}") for i, d in enumerate((1, 5, 12, 40, 70, 200))],
    "claims@rank.test": [R(reason="package never arrived"), R(order="o2", reason="it was not received", days_ago=20),
                         R(order="o3", reason="not as described", status="denied"),
                         R(order="o4", reason="looks different from the picture", status="denied")],
    "bracket@rank.test": [R(order="o1", category="apparel", days_after_purchase=28, status="approved", value=320),
                          R(order="o1", category="apparel", days_after_purchase=1, status="completed", value=320)],
    "quick@rank.test": [R(days_after_purchase=1, days_ago=15)],
    "flags@rank.test": [R(flags={"address_mismatch": True, "reused_photo": False}, days_ago=3)],
    "quiet@rank.test": [R(days_ago=500)],
}


def _reference(actor) -> dict:
    """The scorer before revision 0016, read-only, for every customer of the actor's business, as it ran."""
    with unit_of_work(actor) as uow:
        rows = uow.session.execute(text(REFERENCE_SQL), {"b": actor.business_id, "lo": ""}).all()
    return {r[0]: tuple(r[1:]) for r in rows}


def _stored(url: str, business_id) -> dict:
    with psycopg.connect(url) as c:
        return {r[0]: r[1:] for r in c.execute(
            "SELECT customer_email, risk_score, return_frequency, fraud_indicators, behavior_patterns "
            "FROM customer_risk_profiles WHERE business_id = %s", (business_id,)).fetchall()}


def test_the_recompute_gives_every_customer_what_the_previous_scorer_gave(fresh_db, atlas_reviewer):
    bid = atlas_reviewer.business_id
    for email, history in HISTORIES.items():
        build(fresh_db, bid, email, history, orders=8, events=[True, False] if email.startswith("flags") else None)
    with unit_of_work(atlas_reviewer) as uow:
        summary = recompute_business(uow, chunk=9)  # several ranges, the first below every email
    expected, stored = _reference(atlas_reviewer), _stored(fresh_db, bid)
    assert summary.customers == len(expected) == len(stored) > len(HISTORIES)
    assert stored == expected  # score, returns in 365 days, indicators and every factor's evidence, customer by customer
    assert {f["name"] for e in HISTORIES for f in stored[e][3]["factors"]} >= {
        "returns_30d", "returns_90d", "returns_365d", "not_received", "not_as_described", "bracketing", "denied",
        "late_apparel", "quick_claims", "high_value", "refunded_value", "fraud_flags", "open_events"}


def test_only_a_changed_history_is_written_again(fresh_db, atlas_reviewer):
    bid = atlas_reviewer.business_id
    build(fresh_db, bid, "grows@rank.test", [R(days_ago=100)])
    with unit_of_work(atlas_reviewer) as uow:
        recompute_business(uow)
    before = profile(fresh_db, bid, "grows@rank.test")
    with psycopg.connect(fresh_db) as c:  # a new return arrives outside the console (an import, say)
        c.execute("INSERT INTO return_requests (business_id, order_id, customer_email, reason_for_return, status, "
                  "created_at) VALUES (%s, 'grows@rank.test/o9', 'grows@rank.test', 'never arrived', 'denied', "
                  "timezone('utc', now()) - interval '2 days')", (bid,))
    with unit_of_work(atlas_reviewer) as uow:
        again = recompute_business(uow)
    after = profile(fresh_db, bid, "grows@rank.test")
    assert again.written == 1 and after[3]["returns"] == 2 and after[0] > before[0] and after[4] > before[4]
    assert _stored(fresh_db, bid) == _reference(atlas_reviewer)
    with psycopg.connect(fresh_db) as c:  # a score changed outside the scorer is put right, too
        c.execute("UPDATE customer_risk_profiles SET risk_score = 0.99 WHERE customer_email = 'grows@rank.test'")
    with unit_of_work(atlas_reviewer) as uow:
        assert recompute_business(uow).written == 1
    assert profile(fresh_db, bid, "grows@rank.test")[0] == after[0]


def test_stored_ranking_columns_agree_with_the_bands_and_the_scorer(fresh_db, atlas_reviewer):
    bid = atlas_reviewer.business_id
    with unit_of_work(atlas_reviewer) as uow:
        recompute_business(uow)
    with psycopg.connect(fresh_db) as c:
        c.execute("INSERT INTO customer_risk_profiles (customer_email, business_id, risk_score, behavior_patterns) "
                  "VALUES ('imported@rank.test', %s, 0.9, '{\"returns_total\": 4}')", (bid,))
        rows = c.execute("SELECT risk_score::float, behavior_patterns, band_rank, sort_score, returns_count "
                         "FROM customer_risk_profiles WHERE business_id = %s", (bid,)).fetchall()
    ranks = {"low": 0, "medium": 1, "high": 2}
    for risk, patterns, rank, sort_score, returns in rows:
        computed = patterns.get("model") == SCORER_ID
        assert rank == (ranks[band_of(risk)] if computed else -1)
        assert sort_score == pytest.approx(risk if computed else -1)
        assert returns == (patterns["returns"] if computed else None)
    assert {r[2] for r in rows} >= {-1, 0}


def _unscore(url: str, business_id, n: int | None = None) -> None:
    """Profiles written elsewhere (an import, an older scorer): the console has not scored them."""
    with psycopg.connect(url) as c:
        c.execute("UPDATE customer_risk_profiles SET behavior_patterns = '{}' WHERE id IN (SELECT id FROM "
                  "customer_risk_profiles WHERE business_id = %s ORDER BY id LIMIT %s)", (business_id, n))


def _ranking(actor, **kw) -> list[profiles.CustomerRow]:
    rows, after = [], None
    while True:
        with unit_of_work(actor) as uow:
            page = profiles.risky_customers(uow, after=after, limit=7, **kw)
        rows += page.rows
        if page.next_cursor is None:
            return rows
        after = page.next_cursor


def _expected_order(rows: list[profiles.CustomerRow]) -> list[str]:
    rank = {"high": 2, "medium": 1, "low": 0, None: -1}
    return [r.customer_email for r in sorted(
        rows, key=lambda r: (rank[r.effective_band], -1 if r.risk_score is None else r.risk_score, r.customer_email),
        reverse=True)]


def test_override_beats_the_computed_band_in_ranking_filters_and_counts_until_it_expires(fresh_db, atlas_reviewer):
    bid = atlas_reviewer.business_id
    _unscore(fresh_db, bid, 5)  # the seed scores everyone: a few profiles from elsewhere, never scored here
    build(fresh_db, bid, "Calm.Customer@Rank.test", [R(days_ago=300)])
    score(atlas_reviewer, "Calm.Customer@Rank.test")
    everyone = _ranking(atlas_reviewer)
    with unit_of_work(atlas_reviewer) as uow:
        before = profiles.risk_overview(uow)
    assert [r.customer_email for r in everyone] == _expected_order(everyone)  # every page, in order, once
    assert len(everyone) == before.customers == len({r.customer_email for r in everyone})
    assert before.not_scored == sum(r.effective_band is None for r in everyone) == 5  # never scored here: no band
    calm = next(r for r in everyone if r.customer_email == "Calm.Customer@Rank.test")
    assert (calm.band, calm.effective_band, calm.overridden, calm.returns) == ("low", "low", False, 1)

    with unit_of_work(atlas_reviewer) as uow:
        lists.set_band_override(uow, "calm.customer@rank.test", "high", reason="linked accounts",
                                expires_at=datetime.utcnow() + timedelta(hours=2))
    with unit_of_work(atlas_reviewer) as uow:
        during = profiles.risk_overview(uow)
        first_high = profiles.risky_customers(uow, band="high", limit=500).rows
        low = profiles.risky_customers(uow, band="low", limit=500).rows
    assert during.by_band["high"] == before.by_band["high"] + 1 and during.by_band["low"] == before.by_band["low"] - 1
    mine = next(r for r in first_high if r.customer_email == "Calm.Customer@Rank.test")
    assert (mine.band, mine.effective_band, mine.overridden) == ("low", "high", True)
    assert "Calm.Customer@Rank.test" not in [r.customer_email for r in low]
    ranked = _ranking(atlas_reviewer)
    assert [r.customer_email for r in ranked] == _expected_order(ranked) and len(ranked) == len(everyone)

    with psycopg.connect(fresh_db) as c:  # the override runs out: no one writes anything
        c.execute("UPDATE risk_band_overrides SET expires_at = timezone('utc', now()) - interval '1 minute' "
                  "WHERE customer_email = 'calm.customer@rank.test'")
    with unit_of_work(atlas_reviewer) as uow:
        after = profiles.risk_overview(uow)
        low = profiles.risky_customers(uow, band="low", search="calm.customer", limit=500).rows
    assert after.by_band == before.by_band
    assert [(r.customer_email, r.effective_band, r.overridden) for r in low] == [("Calm.Customer@Rank.test", "low", False)]


def test_filters_by_list_minimum_returns_and_email(fresh_db, atlas_reviewer):
    bid = atlas_reviewer.business_id
    build(fresh_db, bid, "watched@rank.test", [R(), R(order="o2"), R(order="o3")])
    score(atlas_reviewer, "watched@rank.test")
    with unit_of_work(atlas_reviewer) as uow:
        lists.add_to_list(uow, "watchlist", "email", "watched@rank.test", reason="chargebacks")
    with unit_of_work(atlas_reviewer) as uow:
        watched = profiles.risky_customers(uow, list_kind="watchlist").rows
        trusted = profiles.risky_customers(uow, list_kind="trusted").rows
        busy = profiles.risky_customers(uow, min_returns=3, limit=500).rows
        found = profiles.risky_customers(uow, search="WATCHED@rank").rows
        nothing = profiles.risky_customers(uow, search="100%_sure").rows
        counts = dict(uow.session.execute(text(
            "SELECT customer_email, count(*) FROM return_requests WHERE business_id = :b AND NOT is_test "
            "GROUP BY 1 HAVING count(*) >= 3"), {"b": bid}).all())
    assert [(r.customer_email, r.lists, r.returns) for r in watched] == [("watched@rank.test", ["watchlist"], 3)]
    assert trusted == []
    assert {r.customer_email for r in busy} == set(counts)  # scored or not: the live count for never-scored ones
    assert all(r.returns == counts[r.customer_email] for r in busy)
    assert [r.customer_email for r in found] == ["watched@rank.test"] and nothing == []


def test_the_ranking_is_the_businesss_own(fresh_db, atlas_reviewer, bloom_owner):
    _unscore(fresh_db, bloom_owner.business_id)
    with unit_of_work(atlas_reviewer) as uow:
        recompute_business(uow)
    with unit_of_work(bloom_owner) as uow:
        theirs = profiles.risky_customers(uow, limit=500).rows
        overview = profiles.risk_overview(uow)
    with psycopg.connect(fresh_db) as c:
        emails = {r[0] for r in c.execute("SELECT customer_email FROM customer_risk_profiles WHERE business_id = %s",
                                          (bloom_owner.business_id,)).fetchall()}
    assert {r.customer_email for r in theirs} == emails and overview.customers == len(emails)
    assert all(r.effective_band is None for r in theirs)  # the other business was never recomputed
