"""The return queue: server-side filters, search, sorts, keyset pages with the total, KPIs, CSV."""
from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import psycopg
import pytest

from db.uow import unit_of_work
from dokani.errors import Invalid
from dokani.returns.filters import build_filter
from dokani.returns.queue import export_csv, queue_kpis, queue_page
from dokani.returns.review import return_detail
from dokani.triage.engine import classify_reason


def _rows(url: str, sql: str, *params):
    with psycopg.connect(url) as conn:
        return conn.execute(sql, params).fetchall()


def _all_pages(actor, f, page_size=7):
    rows, cursor, totals = [], None, set()
    with unit_of_work(actor) as uow:
        while True:
            page = queue_page(uow, f, cursor=cursor, page_size=page_size)
            rows.extend(page.rows)
            totals.add(page.total)
            if not page.next_cursor:
                return rows, totals
            cursor = page.next_cursor


def test_default_queue_is_what_needs_a_decision_oldest_first(seeded_db, atlas_reviewer):
    expected = _rows(seeded_db, "SELECT id FROM return_requests WHERE business_id = %s AND status IN "
                                "('pending_review', 'escalated') ORDER BY created_at, id", atlas_reviewer.business_id)
    rows, totals = _all_pages(atlas_reviewer, build_filter())
    assert [r.id for r in rows] == [e[0] for e in expected]
    assert totals == {len(expected)} and len(expected) > 7


@pytest.mark.parametrize("sort", ["risk", "value"])
def test_keyset_pages_cover_every_row_once_in_order(seeded_db, atlas_reviewer, sort):
    f = build_filter(statuses=[], sort=sort)
    rows, totals = _all_pages(atlas_reviewer, f, page_size=25)
    count = _rows(seeded_db, "SELECT count(*) FROM return_requests WHERE business_id = %s", atlas_reviewer.business_id)[0][0]
    assert len(rows) == len({r.id for r in rows}) == count and totals == {count}
    keys = [((r.risk_score or 0) if sort == "risk" else r.order_value, r.id) for r in rows]  # not scored sorts as 0
    assert keys == sorted(keys, reverse=True)


def test_filters_narrow_in_sql(seeded_db, atlas_reviewer):
    f = build_filter(statuses=[], risk_bands=["medium"], min_value=50, max_value=400,
                     created_from=date.today() - timedelta(days=60))
    rows, _ = _all_pages(atlas_reviewer, f, page_size=100)
    assert rows
    for r in rows:
        assert 0.35 <= r.risk_score < 0.7 and 50 <= r.order_value <= 400 and r.risk_band == "medium"
        assert r.created_at.date() >= date.today() - timedelta(days=60)
    cat = rows[0].product_category
    only_cat, _ = _all_pages(atlas_reviewer, build_filter(statuses=[], categories=[cat]), page_size=200)
    assert only_cat and {r.product_category for r in only_cat} == {cat}


def test_reason_filter_matches_the_engines_reading(seeded_db, atlas_reviewer):
    rows, _ = _all_pages(atlas_reviewer, build_filter(statuses=[], reasons=["damaged", "defective"]), page_size=200)
    assert rows
    for r in rows:
        assert classify_reason(r.reason_for_return)[0] == r.reason_code in ("damaged", "defective")


def test_sla_state_filter_and_kpis(seeded_db, atlas_reviewer):
    overdue, _ = _all_pages(atlas_reviewer, build_filter(sla_states=["overdue"], sla_hours=48), page_size=200)
    assert overdue and all(r.age_hours >= 48 and r.sla_state == "overdue" for r in overdue)
    with unit_of_work(atlas_reviewer) as uow:
        k = queue_kpis(uow, sla_hours=48)
        k_long = queue_kpis(uow, sla_hours=24 * 30)
    waiting = _rows(seeded_db, "SELECT count(*), sum(order_value), "
                               "percentile_cont(0.5) WITHIN GROUP (ORDER BY timezone('utc', now()) - created_at) "
                               "FROM return_requests WHERE business_id = %s AND status IN ('pending_review', 'escalated')",
                    atlas_reviewer.business_id)[0]
    assert k.waiting == waiting[0] and k.overdue == len(overdue)
    assert k.value_at_stake == pytest.approx(float(waiting[1]), abs=0.01)
    assert k.median_age_hours == pytest.approx(waiting[2].total_seconds() / 3600, abs=0.2)
    assert k_long.overdue < k.overdue  # the SLA is configurable and counts


def test_search_by_order_email_and_public_id_substrings(seeded_db, atlas_reviewer):
    rid, order_id, email, public_id = _rows(
        seeded_db, "SELECT id, order_id, customer_email, public_id::text FROM return_requests WHERE business_id = %s "
                   "ORDER BY id LIMIT 1", atlas_reviewer.business_id)[0]
    for term in (order_id[2:], email.split("@")[0][1:].upper(), public_id[9:23]):
        rows, _ = _all_pages(atlas_reviewer, build_filter(statuses=[], search=term), page_size=200)
        assert rid in {r.id for r in rows}, term
    nothing, totals = _all_pages(atlas_reviewer, build_filter(statuses=[], search="%_no-such-thing_%"))
    assert nothing == [] and totals == {0}


def test_a_search_within_statuses_finds_exactly_the_matches_in_them(seeded_db, atlas_reviewer):
    """The search narrows by status inside the search function: the same rows as matching first, then keeping
    the statuses, for one status, several, or all."""
    atlas = atlas_reviewer.business_id
    (domain,), = _rows(seeded_db, "SELECT split_part(customer_email, '@', 2) FROM return_requests "
                                  "WHERE business_id = %s AND status = 'pending_review' LIMIT 1", atlas)
    term = domain[:4]
    for statuses in (["pending_review"], ["pending_review", "escalated"], ["denied", "approved"], []):
        expected = {r for (r,) in _rows(
            seeded_db, "SELECT id FROM return_requests WHERE business_id = %s AND NOT is_test "
                       "AND lower(customer_email) LIKE %s AND (cardinality(%s::text[]) = 0 OR status = ANY(%s))",
            atlas, f"%{term}%", statuses, statuses)}
        rows, totals = _all_pages(atlas_reviewer, build_filter(statuses=statuses, search=term), page_size=100)
        assert expected and {r.id for r in rows} == expected and totals == {len(expected)}, statuses


def test_the_search_function_answers_members_only(seeded_db, atlas_reviewer, bloom_owner):
    """Called straight, as another business's member: nothing, whatever the pattern and statuses."""
    with unit_of_work(bloom_owner) as uow:
        from sqlalchemy import text

        found = uow.session.execute(text("SELECT count(*) FROM dokani.search_return_ids(:b, '%', :s)"),
                                    {"b": atlas_reviewer.business_id, "s": ["pending_review"]}).scalar_one()
        mine = uow.session.execute(text("SELECT count(*) FROM dokani.search_return_ids(:b, '%', NULL)"),
                                   {"b": bloom_owner.business_id}).scalar_one()
    assert found == 0 and mine > 0


def test_invalid_filters_are_reported_by_field():
    with pytest.raises(Invalid) as err:
        build_filter(min_value=100, max_value=10)
    assert "lowest order value" in str(err.value)


def test_tenancy_queue_shows_only_the_current_business(seeded_db, atlas_reviewer, bloom_owner):
    a, _ = _all_pages(atlas_reviewer, build_filter(statuses=[]), page_size=500)
    b, _ = _all_pages(bloom_owner, build_filter(statuses=[]), page_size=500)
    assert a and b and not ({r.id for r in a} & {r.id for r in b})


def test_csv_export_is_the_whole_filtered_view(seeded_db, atlas_reviewer):
    f = build_filter(sort="risk")
    rows, _ = _all_pages(atlas_reviewer, f, page_size=5)
    with unit_of_work(atlas_reviewer) as uow:
        data = export_csv(uow, f)
    parsed = list(csv.DictReader(io.StringIO(data)))
    assert [p["Return id"] for p in parsed] == [str(r.public_id) for r in rows]
    assert {"Order", "Customer email", "Risk score", "SLA"} <= set(parsed[0])  # headers in words
    assert {p["Status"] for p in parsed} <= {"Needs review", "Escalated"}  # and codes too (dokani.labels)


def test_review_detail_has_everything_the_panel_shows(seeded_db, atlas_reviewer):
    pid, = _rows(seeded_db, "SELECT public_id::text FROM return_requests r WHERE business_id = %s AND status = 'pending_review' "
                            "AND EXISTS (SELECT 1 FROM return_requests o WHERE o.customer_email = r.customer_email "
                            "AND o.id <> r.id) ORDER BY id LIMIT 1", atlas_reviewer.business_id)[0]
    with unit_of_work(atlas_reviewer) as uow:
        d = return_detail(uow, pid)
    assert d.transcript and d.transcript[0].speaker == "customer"
    assert d.other_returns_total >= 1 and all(o.public_id != d.public_id for o in d.other_returns)
    assert d.actions == ["approve", "deny", "escalate"]
    assert d.ai_recommendation and d.policy_version_used


def test_reason_sql_agrees_with_the_python_classifier(seeded_db):
    import random

    from dokani.returns.filters import reason_code_sql
    from dokani.triage.engine import REASON_KEYWORDS

    rng = random.Random(3)
    phrases = [p for _, ps in REASON_KEYWORDS for p in ps] + ["", "ok", "IT'S", "Don'T", "%", "_", "'"]
    texts = [" ".join(rng.choice(phrases).upper() if rng.random() < 0.3 else rng.choice(phrases)
                      for _ in range(rng.randint(0, 3))) for _ in range(400)] + [None]
    with psycopg.connect(seeded_db) as conn:
        got = [r[0] for r in conn.execute(
            f"SELECT {reason_code_sql('t.x')} FROM unnest(%s::text[]) WITH ORDINALITY t(x, n) ORDER BY n", (texts,))]
    assert got == [classify_reason(t)[0] for t in texts]


def test_chat_lab_test_returns_stay_out_of_the_live_queue_and_history(fresh_db, atlas_reviewer):
    from dokani.triage.facts import count_returns, facts_for_return, iter_facts

    bid = atlas_reviewer.business_id
    (email,), = _rows(fresh_db, "SELECT customer_email FROM return_requests WHERE business_id = %s AND status = "
                                "'pending_triage' ORDER BY id LIMIT 1", bid)
    with unit_of_work(atlas_reviewer) as uow:
        kpis_before = queue_kpis(uow)
        pending_before = count_returns(uow.session, bid, statuses=["pending_triage"])
        history_before = {f.id: f.facts.history.previous_returns for f in iter_facts(uow.session, bid)}
    with psycopg.connect(fresh_db) as conn:
        test_ids = [conn.execute(
            "INSERT INTO return_requests (business_id, order_id, customer_email, status, is_test, order_value, created_at) "
            "VALUES (%s, 'TEST-1', %s, %s, true, 999, timezone('utc', now()) - interval '1 year') RETURNING id",
            (bid, email, status)).fetchone()[0] for status in ("pending_review", "pending_triage")]
    with unit_of_work(atlas_reviewer) as uow:
        assert queue_kpis(uow) == kpis_before
        page = queue_page(uow, build_filter(statuses=[], search="TEST-1"))
        assert page.total == 0 and page.rows == []
        assert count_returns(uow.session, bid, statuses=["pending_triage"]) == pending_before
        after = {f.id: f.facts.history.previous_returns for f in iter_facts(uow.session, bid)}
        assert after == history_before  # neither rows nor history
        own = facts_for_return(uow.session, bid, test_ids[0])
        assert own is not None and own.id == test_ids[0]
        assert return_detail(uow, str(_rows(fresh_db, "SELECT public_id FROM return_requests WHERE id = %s",
                                            test_ids[0])[0][0])).is_test


def test_the_stored_reason_code_reads_the_customers_words_as_the_engine_does(fresh_db):
    """return_requests.reason_code (revision 0015) must be the engine's reading: changing the engine's keywords
    needs a revision that regenerates the column."""
    import psycopg

    from dokani.returns.filters import reason_code_sql
    from dokani.triage.engine import classify_reason

    with psycopg.connect(fresh_db) as c:
        rows = c.execute(f"SELECT reason_for_return, reason_code, {reason_code_sql('reason_for_return')} "
                         "FROM return_requests").fetchall()
    assert rows
    for words, stored, computed in rows:
        assert stored == computed == classify_reason(words)[0], words
