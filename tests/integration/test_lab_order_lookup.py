"""The agent's order lookup in mock_orders: by id in the text, by the conversation, by email; tenant-scoped."""
from __future__ import annotations

import psycopg
import pytest

from db.demo import business
from db.uow import unit_of_work
from dokani.lab import orders
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
