"""A tester opens a chat test session in a real browser, chats, and the agent opens a test return
that is stored as test data and never reaches the live queue."""
from __future__ import annotations

import psycopg
import pytest
from playwright.sync_api import expect

from db.demo import business, user
from tests.e2e.conftest import open_as, wait_for_app

pytestmark = pytest.mark.e2e
ATLAS = business("atlas").business_id


def test_a_short_chat_opens_a_test_return(app_server, page, fresh_db):
    with psycopg.connect(fresh_db) as conn:
        order_id, email = conn.execute(
            "SELECT order_id, customer_email FROM mock_orders WHERE business_id = %s ORDER BY order_id LIMIT 1",
            (ATLAS,)).fetchone()
        live_before = conn.execute("SELECT count(*) FROM return_requests WHERE NOT is_test").fetchone()[0]

    open_as(page, app_server, "chat", user("atlas", "tester"))
    expect(page.locator("h1").first).to_contain_text("Chat test lab")

    # New session: pick "New test session" in the session box, fill the form.
    page.get_by_label("Session", exact=True).click()
    page.get_by_role("option", name="New test session…").click()
    wait_for_app(page)
    page.get_by_label("Session name").fill("Browser jacket test")
    page.get_by_label("Customer email").fill(email)
    page.get_by_label("Order id (optional)").fill(order_id)
    page.get_by_role("button", name="Create session").click()
    wait_for_app(page)
    expect(page.get_by_text(f"customer {email} · order {order_id}")).to_be_visible()

    # Greeting, then the customer's turns.
    chat = page.get_by_placeholder("Write as the customer", exact=False)
    chat.fill("Hello")
    chat.press("Enter")
    wait_for_app(page)
    expect(page.locator("[data-testid=stChatMessage]").filter(has_text="Hello").first).to_be_visible()
    chat.fill(f"I want to return order {order_id}, it arrived damaged [photo]")
    chat.press("Enter")
    wait_for_app(page)
    reply = page.locator("[data-testid=stChatMessage]").filter(has_text="test return #").last
    expect(reply).to_be_visible()
    expect(reply).to_contain_text(order_id)
    assert page.locator("[data-testid=stException]").count() == 0

    # The decision details are one click away, and the session lists its test return.
    page.get_by_text("Details: Return request", exact=False).last.click()
    expect(page.get_by_text("Test returns opened in this session", exact=False)).to_be_visible()

    with psycopg.connect(fresh_db) as conn:
        rows = conn.execute(
            "SELECT r.is_test, s.session_name FROM return_requests r JOIN chat_sessions s ON s.id = r.test_session_id "
            "WHERE r.order_id = %s AND r.is_test", (order_id,)).fetchall()
        live_after = conn.execute("SELECT count(*) FROM return_requests WHERE NOT is_test").fetchone()[0]
        turns = conn.execute(
            "SELECT m.sender FROM chat_messages m JOIN chat_sessions s ON s.id = m.session_id "
            "WHERE s.session_name = 'Browser jacket test' ORDER BY m.created_at").fetchall()
    assert rows == [(True, "Browser jacket test")]
    assert live_after == live_before
    assert [t[0] for t in turns] == ["customer", "agent", "customer", "agent"]


def test_a_long_chat_keeps_every_message_in_the_session(app_server, page, fresh_db):
    """Issue 16: the third message was lost and the page fell back to "New test session…"."""
    open_as(page, app_server, "chat", user("atlas", "tester"))
    expect(page.locator("h1").first).to_contain_text("Chat test lab")
    said = ["Hello, first message", "What is your return policy?", "How long do I have to return shoes?",
            "Can I speak to a human?", "Thanks, bye"]
    for message in said:
        chat = page.get_by_placeholder("Write as the customer", exact=False)
        expect(chat).to_be_visible()
        chat.fill(message)
        chat.press("Enter")
        wait_for_app(page)
        expect(page.locator("[data-testid=stChatMessage]").filter(has_text=message).first).to_be_visible()
    expect(page.get_by_placeholder("Write as the customer", exact=False)).to_be_enabled()
    with psycopg.connect(fresh_db) as conn:
        stored = [r[0] for r in conn.execute(
            "SELECT m.message FROM chat_messages m JOIN chat_sessions s ON s.id = m.session_id "
            "WHERE s.business_id = %s AND m.sender = 'customer' AND m.message = ANY(%s) ORDER BY m.created_at",
            (ATLAS, said)).fetchall()]
    assert stored == said
