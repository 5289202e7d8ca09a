"""Every page renders in a real browser without an exception, with data from the database."""
from __future__ import annotations

from playwright.sync_api import expect

from db.demo import user
from tests.e2e.conftest import open_as

PAGES = {"overview": "Overview", "returns": "Returns", "policies": "Polic", "chat": "Chat", "calls": "Calls", "risk": "Risk",
         "import": "Import"}


def test_every_page_renders_with_data(app_server, page):
    owner = user("atlas", "owner")
    for path, title in PAGES.items():
        open_as(page, app_server, path, owner)
        heading = page.locator("h1").first
        heading.wait_for()
        assert title.lower() in heading.inner_text().lower(), path
        assert page.locator("[data-testid=stException]").count() == 0, path
        assert "Traceback" not in page.content(), path
    open_as(page, app_server, "overview", owner)
    metric = page.locator("[data-testid=stMetric]").filter(has_text="Return requests")
    value = metric.locator("[data-testid=stMetricValue]").inner_text()
    assert value.replace(",", "").isdigit() and int(value.replace(",", "")) > 0


def test_a_deep_link_as_the_servers_first_request_runs_the_whole_app(app_server, page):
    """Streamlit would run a pages/ file alone (no sign-in, no navigation) for a server's first request."""
    open_as(page, app_server, "import", user("bloom", "admin"))
    assert page.get_by_text("Page not found").count() == 0
    page.get_by_role("heading", name="Import returns").wait_for()
    sidebar = page.locator("[data-testid=stSidebar]")
    expect(sidebar).to_contain_text("admin · Bloom & Gather Home")  # signed in, business chosen
    expect(sidebar.get_by_text("Chat test lab")).to_be_visible()  # st.navigation's titles, not file names
