"""A policy admin's journey in a real browser: draft from the active version, change the window, backtest,
activate — and the database ends with exactly one active version holding the new rules."""
from __future__ import annotations

import psycopg
import pytest
from playwright.sync_api import expect

from db.demo import business, user
from tests.e2e.conftest import open_as, wait_for_app

pytestmark = pytest.mark.e2e
ATLAS = business("atlas").business_id


def _settle(page) -> None:
    page.wait_for_timeout(300)  # let the rerun start before waiting for it to finish
    wait_for_app(page)


def test_draft_change_window_backtest_activate(app_server, page, fresh_db):
    open_as(page, app_server, "policies", user("atlas", "admin"))
    expect(page.locator("h1").first).to_contain_text("Policy versions")
    with psycopg.connect(fresh_db) as c:
        before = c.execute("SELECT count(*) FROM policies WHERE business_id = %s", (ATLAS,)).fetchone()[0]

    # New draft from the active version (selected by default).
    page.get_by_text("New draft from this version").click()
    page.get_by_role("button", name="Create draft").click()
    expect(page.get_by_text("created from")).to_be_visible()
    _settle(page)

    # Change the return window and save.
    window = page.get_by_label("Return window (days)")
    window.fill("42")
    window.press("Tab")
    _settle(page)
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Saved draft")).to_be_visible()
    _settle(page)
    with psycopg.connect(fresh_db) as c:
        draft_id, window_saved = c.execute(
            "SELECT id, rules->>'return_window_days' FROM policies WHERE business_id = %s AND state = 'draft' "
            "ORDER BY id DESC LIMIT 1", (ATLAS,)).fetchone()
    assert window_saved == "42"

    # Backtest it against the active version.
    page.get_by_role("tab", name="Backtest").click()
    _settle(page)
    period = page.get_by_role("combobox", name="Returns to replay")
    expect(period).to_have_value("Last 90 days")  # the default period
    period.click()
    page.get_by_role("option", name="All past returns").click()
    _settle(page)
    page.get_by_role("button", name="Run backtest").click()
    expect(page.get_by_text("Backtest stored")).to_be_visible(timeout=60_000)
    _settle(page)
    # the page stays on the Backtest tab after the rerun that lists the stored result
    expect(page.get_by_role("tab", name="Backtest")).to_have_attribute("aria-selected", "true")
    replayed = page.locator("[data-testid=stMetric]").filter(has_text="Returns replayed")
    expect(replayed).to_be_visible()
    with psycopg.connect(fresh_db) as c:
        total = c.execute("SELECT count(*) FROM return_requests WHERE business_id = %s", (ATLAS,)).fetchone()[0]
    assert replayed.locator("[data-testid=stMetricValue]").inner_text().replace(",", "") == str(total)

    # Activate now.
    page.get_by_role("tab", name="Activate").click()
    page.get_by_role("button", name="Activate now").click()
    expect(page.get_by_text("is now the active version")).to_be_visible()
    assert page.locator("[data-testid=stException]").count() == 0

    with psycopg.connect(fresh_db) as c:
        active = c.execute("SELECT id, rules->>'return_window_days' FROM policies "
                           "WHERE business_id = %s AND is_active", (ATLAS,)).fetchall()
        after = c.execute("SELECT count(*) FROM policies WHERE business_id = %s", (ATLAS,)).fetchone()[0]
        stored = c.execute("SELECT count(*) FROM policy_backtests WHERE policy_id = %s", (draft_id,)).fetchone()[0]
    assert active == [(draft_id, "42")]
    assert after == before + 1 and stored == 1
