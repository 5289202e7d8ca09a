"""A reviewer opens a shared deep link in a real browser and approves; then the database is checked."""
from __future__ import annotations

import psycopg
import pytest
from playwright.sync_api import expect

from db.demo import business, user
from tests.e2e.conftest import ARTIFACTS, open_as, wait_for_app

pytestmark = pytest.mark.e2e


def _rows(url: str, sql: str, *params):
    with psycopg.connect(url) as conn:
        return conn.execute(sql, params).fetchall()


def test_reviewer_opens_a_deep_link_and_approves(app_server, page, fresh_db):
    reviewer = user("atlas", "reviewer")
    (rid, pid, reason), = _rows(
        fresh_db, "SELECT id, public_id::text, reason_for_return FROM return_requests WHERE business_id = %s "
                  "AND status = 'pending_review' AND reason_for_return LIKE '%%<script>%%' LIMIT 1",
        business("atlas").business_id)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))

    open_as(page, app_server, "returns", reviewer, **{"return": pid})
    expect(page.get_by_text(f"Return {pid}")).to_be_visible()
    # hostile customer text is shown verbatim as text, and nothing in it ran
    expect(page.get_by_text(reason, exact=True).first).to_be_visible()
    assert page.locator("img[src='x']").count() == 0 and dialogs == []

    page.get_by_label("Note").fill("Photos match the order; approving.")
    page.get_by_role("button", name="Approve", exact=True).click()
    expect(page.get_by_text("Saved: needs review → approved.")).to_be_visible()
    wait_for_app(page)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "review_after_approve.png"), full_page=True)

    status, notes, decided, approved = _rows(
        fresh_db, "SELECT status, admin_notes, admin_decision_at, approved_at FROM return_requests WHERE id = %s", rid)[0]
    assert (status, notes) == ("approved", "Photos match the order; approving.")
    assert decided is not None and approved is not None
    (actor, action, before, after), = _rows(
        fresh_db, "SELECT actor_email, action, before ->> 'status', after ->> 'status' FROM audit_log "
                  "WHERE entity = 'return_requests' AND entity_id = %s AND action <> 'triage'", str(rid))  # seeded triage
    assert (actor, action, before, after) == (reviewer.email, "approve", "pending_review", "approved")
    # the panel's buttons now refuse a second decision
    expect(page.get_by_role("button", name="Deny", exact=True)).to_be_disabled()


def test_deep_link_switches_to_the_business_of_the_return(app_server, page, fresh_db):
    reviewer = user("atlas", "reviewer")
    bloom = business("bloom").business_id
    with psycopg.connect(fresh_db) as conn:
        conn.execute("INSERT INTO business_members (business_id, user_id, role, email) VALUES (%s, %s, 'reviewer', %s)",
                     (bloom, reviewer.user_id, reviewer.email))
    (pid,), = _rows(fresh_db, "SELECT public_id::text FROM return_requests WHERE business_id = %s "
                              "AND status = 'pending_review' LIMIT 1", bloom)
    open_as(page, app_server, "returns", reviewer, **{"return": pid})
    expect(page.get_by_text(f"Return {pid}")).to_be_visible()
    business_box = page.locator("[data-testid=stSidebar]").get_by_role("combobox", name="Business")
    expect(business_box).to_have_value("Bloom & Gather Home · reviewer")
