"""Signing in as a person would, in a real browser: refused, accepted, kept across reloads and deep links, ended."""
from __future__ import annotations

import psycopg
from playwright.sync_api import expect

from db.demo import DEMO_PASSWORD, business, user
from tests.e2e.conftest import open_as, sign_in, wait_for_app

REVIEWER = user("atlas", "reviewer")


def _sidebar_identity(page) -> str:
    return page.locator("[data-testid=stSidebar]").inner_text()


def test_sign_in_survives_reload_and_deep_links_and_sign_out_ends_it(app_server, page, fresh_db):
    with psycopg.connect(fresh_db) as c:
        pid = c.execute("SELECT public_id::text FROM return_requests WHERE business_id = %s AND status = 'pending_review' "
                        "AND NOT is_test ORDER BY id LIMIT 1", (business("atlas").business_id,)).fetchone()[0]
    page.goto(app_server.page_url("returns", **{"return": pid}))
    assert "/sign-in" in page.url  # a console page without a session goes to the form first
    sign_in(page, app_server, REVIEWER.email, "not-the-password")
    expect(page.get_by_role("alert")).to_contain_text("do not match")
    sign_in(page, app_server, REVIEWER.email, DEMO_PASSWORD)
    wait_for_app(page)
    assert f"return={pid}" in page.url  # back where the deep link pointed
    expect(page.locator("[data-testid=stSidebar]")).to_contain_text("reviewer · Atlas Outfitters")
    expect(page.get_by_role("button", name="Approve")).to_be_visible()

    page.reload()
    wait_for_app(page)
    expect(page.locator("[data-testid=stSidebar]")).to_contain_text("reviewer · Atlas Outfitters")
    cookie = next(c for c in page.context.cookies() if c["name"] == "dokani_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    assert cookie["value"] not in page.url

    tab = page.context.new_page()  # a new tab with a deep link: same session, nothing in the URL
    tab.goto(app_server.page_url("risk"))
    wait_for_app(tab)
    expect(tab.locator("[data-testid=stSidebar]")).to_contain_text("reviewer · Atlas Outfitters")
    tab.close()

    page.get_by_role("link", name="Sign out").click()
    page.wait_for_url("**/sign-in**")
    expect(page.get_by_role("status")).to_contain_text("signed out")
    page.goto(app_server.page_url("returns"))
    assert "/sign-in" in page.url
    page.go_back()
    page.wait_for_load_state()
    assert "/sign-in" in page.url or page.get_by_text("Sign in to the Dokani console").count() == 1


def test_a_viewer_finds_no_approve_button_and_as_changes_nothing(app_server, page, fresh_db):
    with psycopg.connect(fresh_db) as c:
        pid = c.execute("SELECT public_id::text FROM return_requests WHERE business_id = %s AND status = 'pending_review' "
                        "AND NOT is_test ORDER BY id LIMIT 1", (business("atlas").business_id,)).fetchone()[0]
    owner = user("atlas", "owner")
    open_as(page, app_server, "returns", user("atlas", "viewer"), **{"return": pid, "as": str(owner.user_id)})
    expect(page.locator("[data-testid=stSidebar]")).to_contain_text("viewer · Atlas Outfitters")
    assert page.get_by_role("button", name="Approve").count() == 0
    page.goto(app_server.page_url("overview", **{"as": str(owner.user_id)}))
    wait_for_app(page)
    expect(page.locator("[data-testid=stSidebar]")).to_contain_text("viewer · Atlas Outfitters")
    assert "owner · Atlas" not in _sidebar_identity(page)


def test_a_fresh_browser_with_as_in_the_url_is_sent_to_sign_in(app_server, page):
    page.goto(app_server.page_url("returns", **{"as": str(user("atlas", "owner").user_id)}))
    assert "/sign-in" in page.url
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()


def test_the_sixth_failed_attempt_is_locked_out(app_server, page):
    page.goto(app_server.page_url("sign-in"))
    for _ in range(5):
        sign_in(page, app_server, REVIEWER.email, "wrong-password")
        expect(page.get_by_role("alert")).to_contain_text("do not match")
    sign_in(page, app_server, REVIEWER.email, DEMO_PASSWORD)
    expect(page.get_by_role("alert")).to_contain_text("locked until")
    assert page.locator("[data-testid=stApp]").count() == 0
