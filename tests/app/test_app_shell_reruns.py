"""Interactions (reruns) go through app.py like on a real server: sign-in, business context, navigation."""
from db.demo import business
from tests.app.conftest import no_exceptions, open_page


def test_a_rerun_keeps_the_sidebar_sign_in_and_business(seeded_db):
    at = open_page("risk", "bloom", "reviewer")
    at.selectbox(key="risk_band").select("high").run()
    no_exceptions(at)
    # no "signed in as" picker (a real session), and no business picker for a member of one business
    assert not at.sidebar.selectbox
    assert at.session_state["dokani_business_id"] == str(business("bloom").business_id)
    assert "Reviewer (Bloom & Gather Home) · reviewer · Bloom & Gather Home" in [t.value for t in at.sidebar.text]


def test_an_empty_default_queue_says_all_is_decided_not_that_filters_hide_it(fresh_db):
    import psycopg

    with psycopg.connect(fresh_db, autocommit=True) as c:
        c.execute("UPDATE return_requests SET status = 'approved' WHERE business_id = %s", (business("atlas").business_id,))
    at = open_page("returns", "atlas", "reviewer")
    no_exceptions(at)
    assert any("No return needs a decision right now" in s.value for s in at.success)
    assert not any("widen the filters" in i.value for i in at.info)
