"""The app shell and the overview page, driven with AppTest against a seeded database.

The overview's period is whole UTC days up to today ("Last 90 days": today and the 89 days before)."""
from __future__ import annotations

import psycopg

from db.demo import business
from tests.app.conftest import no_exceptions, open_page


START = "date_trunc('day', now() AT TIME ZONE 'utc') - interval '89 days'"


def _metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_every_page_renders_without_exception(seeded_db):
    for page in ("overview", "returns", "policies", "chat", "calls", "risk", "import"):
        at = open_page(page)
        no_exceptions(at)
        assert at.title, f"{page} has no title"


def test_overview_figures_are_computed_from_the_database(seeded_db):
    at = open_page("overview")
    no_exceptions(at)
    with psycopg.connect(seeded_db) as c:
        total, waiting = c.execute(
            """
            SELECT count(*) FILTER (WHERE created_at >= {START}),
                   count(*) FILTER (WHERE status IN ('pending_review', 'escalated'))
            FROM return_requests WHERE business_id = %s AND NOT is_test
            """.format(START=START),
            (business("atlas").business_id,),
        ).fetchone()
    assert total > 0
    assert _metric(at, "Return requests") == f"{total:,}"
    assert _metric(at, "Waiting for a decision") == f"{waiting:,}"  # the Returns page's definition


def test_business_switcher_changes_every_figure(seeded_db):
    atlas = open_page("overview", "atlas")
    bloom = open_page("overview", "bloom")
    with psycopg.connect(seeded_db) as c:
        counts = dict(c.execute(
            "SELECT business_id, count(*) FROM return_requests "
            f"WHERE created_at >= {START} AND NOT is_test GROUP BY 1"
        ).fetchall())
    assert _metric(atlas, "Return requests") == f"{counts[business('atlas').business_id]:,}"
    assert _metric(bloom, "Return requests") == f"{counts[business('bloom').business_id]:,}"
    assert at_sidebar_business(bloom) == str(business("bloom").business_id)


def at_sidebar_business(at) -> str:
    """The business the sidebar says the console works on (a member of one business gets no picker)."""
    assert not any(s.label == "Business" for s in at.sidebar.selectbox)
    from db.demo import BUSINESSES

    chosen = at.session_state["dokani_business_id"]
    name = next(b.name for b in BUSINESSES if str(b.business_id) == chosen)
    assert any(t.value.endswith(f"· {name}") for t in at.sidebar.text)
    return chosen


def test_empty_database_says_so_instead_of_showing_zeros_as_data(empty_db):
    at = open_page("overview")
    no_exceptions(at)
    assert any("No one can sign in yet" in i.value for i in at.sidebar.info)


def test_unreachable_database_shows_a_banner_not_a_traceback(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/nothing")
    from db import engine

    engine.dispose_all()
    at = open_page("overview")
    no_exceptions(at)
    assert any("cannot be reached" in e.value for e in at.error)


def test_test_returns_from_the_chat_lab_never_count(fresh_db):
    before = _metric(open_page("overview"), "Return requests")
    with psycopg.connect(fresh_db, autocommit=True) as c:
        c.execute(
            "INSERT INTO return_requests (business_id, order_id, customer_email, is_test, created_at) "
            "VALUES (%s, 'TEST-1', 'tester@example.com', true, now() AT TIME ZONE 'utc')",
            (business("atlas").business_id,),
        )
    assert _metric(open_page("overview"), "Return requests") == before


def test_deltas_compare_with_the_previous_period_from_the_database(seeded_db):
    at = open_page("overview")
    with psycopg.connect(seeded_db) as c:
        now, before = c.execute(
            """
            SELECT count(*) FILTER (WHERE created_at >= {START}),
                   count(*) FILTER (WHERE created_at < {START} AND created_at >= {START} - interval '90 days')
            FROM return_requests WHERE business_id = %s AND NOT is_test
            """.format(START=START),
            (business("atlas").business_id,),
        ).fetchone()
    metric = next(m for m in at.metric if m.label == "Return requests")
    assert metric.delta == f"{now - before:+,}"


def test_the_outage_banner_clears_by_itself_once_the_database_is_back(seeded_db, monkeypatch):
    from db import engine
    from dokani.ui.errors import database_answers

    at = open_page("overview")
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/nothing")
    engine.dispose_all()
    at.run()
    no_exceptions(at)
    assert any("comes back by itself" in e.value for e in at.error)
    assert not database_answers()  # what the banner's fragment asks every few seconds
    monkeypatch.setenv("DATABASE_URL", seeded_db)
    engine.dispose_all()
    assert database_answers()  # ... and then it reruns the page:
    at.run()
    no_exceptions(at)
    assert not any("cannot be reached" in e.value for e in at.error) and at.metric
