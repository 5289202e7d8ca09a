"""The agent's order lookup in mock_orders: by id in the text, by the conversation, by email; tenant-scoped;
and what the agent answers when a customer asks for an order's status."""
from __future__ import annotations

import psycopg
import pytest

from db.demo import business
from db.uow import unit_of_work
from dokani.lab import conversations, orders, personas
from dokani.lab import sessions as chat_lab
from tests.lab_fixtures import load_lab_business
from tests.conftest import actor_for


@pytest.fixture
def lab(empty_db):
    load_lab_business(empty_db)
    bloom = business("bloom")
    with psycopg.connect(empty_db) as conn:
        conn.execute("INSERT INTO auth.users (id, email) VALUES (%s, 'owner@bloom.example')", (bloom.owner_id,))
        conn.execute("INSERT INTO public.profiles (id, business_name, business_id) VALUES (%s, %s, %s)",
                     (bloom.owner_id, bloom.name, bloom.business_id))
        conn.execute(
            "INSERT INTO public.mock_orders (order_id, purchase_date, customer_email, product_name, product_category, business_id) "
            "VALUES ('BLM-5001', now(), 'alex@example.com', 'Vase', 'home', %s)", (bloom.business_id,))
        conn.commit()
    return empty_db


def _lookup(message, **kw):
    with unit_of_work(actor_for("atlas", "tester")) as uow:
        return orders.lookup_order(uow, message, **{"email": "alex@example.com", **kw})


def test_an_order_id_in_the_text_wins_case_insensitively(lab):
    found = _lookup("my order atl-1002 is broken")
    assert found.source == "text" and found.order.order_id == "ATL-1002"
    assert found.order.product_category == "electronics" and found.order.order_value == 250


def test_another_business_order_is_not_found(lab):
    found = _lookup("what about BLM-5001?")
    assert found.order is None and found.not_found == "BLM-5001"


def test_by_email_several_orders_are_listed_newest_first(lab):
    found = _lookup("I want to return something")
    assert found.order is None
    assert [o.order_id for o in found.candidates] == ["ATL-1003", "ATL-1001", "ATL-1002"]


def test_by_email_a_single_order_is_taken(lab):
    found = _lookup("return please", email="SAM@example.com")
    assert found.source == "email" and found.order.order_id == "ATL-2001"


def test_the_conversation_and_session_orders_come_before_email(lab):
    assert _lookup("it is broken", conversation_order="ATL-1001").order.order_id == "ATL-1001"
    assert _lookup("it is broken", session_order="ATL-1003").source == "session"


def test_simulated_orders_are_found_without_touching_mock_orders(lab):
    from datetime import datetime

    sim = orders.SimulatedOrder(order_id="SIM-42", product_category="toys", order_value=12).materialise(
        "alex@example.com", datetime(2026, 1, 10))
    found = _lookup("return SIM-42", simulated=[sim])
    assert found.order.simulated and found.order.product_category == "toys"
    with psycopg.connect(lab) as conn:
        assert conn.execute("SELECT count(*) FROM mock_orders WHERE order_id = 'SIM-42'").fetchone()[0] == 0


def _ask(message: str, email: str = "alex@example.com"):
    """A new test session (Ava, the active policy) and the agent's answer to its first message."""
    with unit_of_work(actor_for("atlas", "tester")) as uow:
        version = chat_lab.policy_options(uow)[0].version
        ava = next(p for p in personas.list_personas(uow) if p.style.persona_name == "Ava")
        session = chat_lab.create_session(uow, chat_lab.SessionDraft(
            name="status", persona_id=ava.id, policy_version=version, customer_email=email))
        return conversations.send_message(uow, session.id, message)


def test_the_status_of_an_order_is_answered_from_mock_orders(lab):
    with psycopg.connect(lab) as conn:
        conn.execute("UPDATE mock_orders SET order_status = 'shipped' WHERE order_id = 'ATL-1002'")
        bought = conn.execute("SELECT purchase_date FROM mock_orders WHERE order_id = 'ATL-1002'").fetchone()[0]
        conn.commit()
    turn = _ask("What is the status of order ATL-1002?")
    assert turn.reply.intent == "order_status" and turn.reply.order_id == "ATL-1002"
    reply = turn.agent.message
    assert "ATL-1002" in reply and "Studio headphones" in reply and "is shipped" in reply
    assert f"{bought:%Y-%m-%d}" in reply and "20 days ago" in reply
    assert "I can help with" not in reply


def test_a_delivered_order_says_until_when_it_can_be_returned(lab):
    with psycopg.connect(lab) as conn:
        bought, deadline = conn.execute(
            "SELECT purchase_date, purchase_date + interval '30 days' FROM mock_orders WHERE order_id = 'ATL-1001'").fetchone()
    reply = _ask("what's the status of ATL-1001").agent.message
    assert "is delivered" in reply and f"{bought:%Y-%m-%d}" in reply
    assert f"return it until {deadline:%Y-%m-%d}" in reply  # apparel: the policy's 30-day window
    lipstick = _ask("What is the status of order ATL-1003?").agent.message
    assert "is delivered" in lipstick and "final sale" in lipstick and "until" not in lipstick


def test_an_order_that_is_not_there_is_said_plainly(lab):
    turn = _ask("What is the status of order ATL-9999?")
    assert turn.reply.intent == "order_status" and turn.reply.order_id is None
    assert "I couldn't find order ATL-9999" in turn.agent.message
    bloom = _ask("What is the status of order BLM-5001?")  # another business's order is not found either
    assert "I couldn't find order BLM-5001" in bloom.agent.message and "Vase" not in bloom.agent.message


def test_the_issue_16_question_on_the_demo_data(fresh_db):
    business_id = actor_for("atlas").business_id
    with psycopg.connect(fresh_db) as conn:
        email, product, status, bought = conn.execute(
            "SELECT customer_email, product_name, order_status, purchase_date FROM mock_orders "
            "WHERE business_id = %s AND order_id = 'ATL-1000111'", (business_id,)).fetchone()
        shipped, shipped_email = conn.execute(
            "SELECT order_id, customer_email FROM mock_orders WHERE business_id = %s AND order_status = 'shipped' "
            "ORDER BY order_id LIMIT 1", (business_id,)).fetchone()
    turn = _ask("What is the status of order ATL-1000111?", email=email)
    assert turn.reply.intent == "order_status" and turn.reply.order_id == "ATL-1000111"
    assert product in turn.agent.message and f"bought {bought:%Y-%m-%d}" in turn.agent.message
    assert f"is {status}" in turn.agent.message and "I can help with" not in turn.agent.message
    assert "is shipped" in _ask(f"What is the status of order {shipped}?", email=shipped_email).agent.message
