"""AppTest helpers: open a page of the real app, signed in as a demo user, against the test's database."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest, app_test

from db.demo import business, user

ROOT = Path(__file__).resolve().parents[2]


class ShellPagesManager(PagesManager):
    """Every AppTest run goes through app.py, as on a real server once st.navigation has run.

    AppTest resets Streamlit's pages/ (v1) fallback on every run, which would run the page file alone on
    reruns — without app.py's sign-in, business context and error guard — and so test something no user sees.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        PagesManager.uses_pages_directory = False


@pytest.fixture(autouse=True)
def reruns_go_through_the_app_shell(monkeypatch):
    monkeypatch.setattr(app_test, "PagesManager", ShellPagesManager)


def open_page(page: str, business_key: str = "atlas", slug: str = "owner", query: dict | None = None) -> AppTest:
    """Run app.py signed in as `slug` of `business_key`, switched to `views/<page>.py`, and return the AppTest.

    The database is whatever `DATABASE_URL` points at (use the `fresh_db` / `seeded_db` fixtures).
    """
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    # AppTest has no cookies: a session opened by the real sign-in service, verified by the app on every run.
    at.session_state["dokani_session_token"] = signed_in_token(business_key, slug)
    at.session_state["dokani_business_id"] = str(business(business_key).business_id)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()  # st.navigation registers the pages (with their url paths) on the first run
    if page != "overview":
        at.switch_page(f"views/{page}.py")
        at.run()
    return at


def signed_in_token(business_key: str = "atlas", slug: str = "owner") -> str | None:
    """A real session of the demo user; None where it cannot sign in (an empty or unreachable database)."""
    from dokani.accounts.sign_in import SignInRefused, sign_in
    from db.demo import DEMO_PASSWORD
    from sqlalchemy.exc import OperationalError

    try:
        return sign_in(user(business_key, slug).email, DEMO_PASSWORD).token
    except (SignInRefused, OperationalError):
        return None


def no_exceptions(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


@pytest.fixture
def page():
    return open_page
