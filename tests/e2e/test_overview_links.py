"""In a real browser: `/overview` is a deep link like every page, `/` opens it, and a tile's link opens the queue
with the same filters."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from db.demo import user
from tests.e2e.conftest import open_as, wait_for_app


def test_overview_deep_link_root_and_a_tile_link(app_server, page):
    owner = user("atlas", "owner")
    open_as(page, app_server, "overview", owner)  # the server's first request: a deep link
    page.get_by_role("heading", name="Overview").wait_for()
    assert page.get_by_text("Page not found").count() == 0
    assert page.url.split("?")[0].endswith("/overview")

    page.goto(app_server.page_url(""))
    wait_for_app(page)
    page.get_by_role("heading", name="Overview").wait_for()
    expect(page).to_have_url(f"{app_server.url}/overview")
    assert page.get_by_text("Page not found").count() == 0

    page.get_by_role("link", name="Show denied returns").first.click()
    page.get_by_role("heading", name="Returns").wait_for()
    expect(page).to_have_url(re.compile(r"/returns\?.*status=denied"))
    expect(page.get_by_text("Filters in force: status: denied").first).to_be_visible()
