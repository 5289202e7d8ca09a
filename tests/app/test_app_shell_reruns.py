"""Interactions (reruns) go through app.py like on a real server: sign-in, business context, navigation."""
from db.demo import business
from tests.app.conftest import no_exceptions, open_page


def test_a_rerun_keeps_the_sidebar_sign_in_and_business(seeded_db):
    at = open_page("risk", "bloom", "reviewer")
    at.selectbox(key="risk_band").select("high").run()
    no_exceptions(at)
    assert [s.label for s in at.sidebar.selectbox] == ["Signed in as", "Business"]
    assert at.sidebar.selectbox[1].value == str(business("bloom").business_id)
