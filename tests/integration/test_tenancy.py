"""Tenancy is enforced by Postgres: a user of business A reads and writes nothing of business B, whatever the SQL."""
from __future__ import annotations

import uuid

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, ProgrammingError

from db.engine import app_engine
from db.uow import Actor, unit_of_work
from dokani.accounts import members as accounts

TABLES_WITH_ROWS = ["profiles", "policies", "return_requests", "provider_configs", "chat_sessions", "chat_messages",
                    "call_sessions", "call_transcripts", "customer_risk_profiles", "security_events", "mock_orders",
                    "business_members"]


def _make_business(c, name: str) -> tuple[uuid.UUID, uuid.UUID]:
    user, business = uuid.uuid4(), uuid.uuid4()
    c.execute("INSERT INTO auth.users (id, email) VALUES (%s, %s)", (user, f"owner@{name}.example"))
    c.execute("INSERT INTO profiles (id, business_name, business_id) VALUES (%s, %s, %s)", (user, name, business))
    c.execute("INSERT INTO business_members (business_id, user_id, role, email) VALUES (%s, %s, 'owner', %s)",
              (business, user, f"owner@{name}.example"))
    c.execute("INSERT INTO policies (business_id, version, is_active, rules) VALUES (%s, 'v1', true, '{}')", (business,))
    c.execute("INSERT INTO return_requests (business_id, order_id, customer_email, reason_for_return) "
              "VALUES (%s, %s, 'c@x.example', 'secret reason of ' || %s)", (business, f"{name}-1", name))
    c.execute("INSERT INTO mock_orders (order_id, purchase_date, customer_email, product_name, product_category, business_id) "
              "VALUES (%s, now(), 'c@x.example', 'Lamp', 'home', %s)", (f"{name}-1", business))
    persona = c.execute("INSERT INTO provider_configs (business_id, provider, config_name) VALUES (%s, 'elevenlabs', 'Ava') "
                        "RETURNING id", (business,)).fetchone()[0]
    chat = c.execute("INSERT INTO chat_sessions (business_id, user_id) VALUES (%s, %s) RETURNING id", (business, user)).fetchone()[0]
    c.execute("INSERT INTO chat_messages (session_id, sender, message) VALUES (%s, 'customer', 'hi')", (chat,))
    call = c.execute("INSERT INTO call_sessions (call_type, provider, persona_config_id) VALUES ('voice', 'elevenlabs', %s) "
                     "RETURNING id", (persona,)).fetchone()[0]
    c.execute("INSERT INTO call_transcripts (call_session_id, speaker, message) VALUES (%s, 'agent', 'hello')", (call,))
    c.execute("INSERT INTO customer_risk_profiles (customer_email, business_id) VALUES ('c@x.example', %s)", (business,))
    c.execute("INSERT INTO security_events (event_type, business_id) VALUES ('address_mismatch', %s)", (business,))
    return user, business


@pytest.fixture
def two_businesses(empty_db):
    with psycopg.connect(empty_db, autocommit=True) as c:
        a = _make_business(c, "alpha")
        b = _make_business(c, "beta")
    return Actor(user_id=a[0], business_id=a[1], role="owner"), Actor(user_id=b[0], business_id=b[1], role="owner")


def test_each_business_sees_only_its_own_rows_in_every_table(two_businesses):
    alpha, beta = two_businesses
    for actor in (alpha, beta):
        with unit_of_work(actor) as uow:
            for table in TABLES_WITH_ROWS:
                count = uow.session.execute(text(f"SELECT count(*) FROM {table}")).scalar()
                assert count == 1, f"{table}: {count} rows visible"
            reasons = uow.session.execute(text("SELECT reason_for_return FROM return_requests")).scalars().all()
            assert reasons == [f"secret reason of {'alpha' if actor is alpha else 'beta'}"]


def test_hand_written_sql_cannot_reach_the_other_business(two_businesses):
    alpha, beta = two_businesses
    with unit_of_work(alpha) as uow:
        s = uow.session
        assert s.execute(text("SELECT count(*) FROM return_requests WHERE business_id = :b"),
                         {"b": beta.business_id}).scalar() == 0
        updated = s.execute(text("UPDATE return_requests SET status = 'approved' WHERE business_id = :b"),
                            {"b": beta.business_id}).rowcount
        assert updated == 0
        with pytest.raises(ProgrammingError):  # WITH CHECK: cannot write a row into someone else's business
            s.execute(text("INSERT INTO return_requests (business_id, order_id, customer_email) VALUES (:b, 'x', 'y')"),
                      {"b": beta.business_id})
    with unit_of_work(alpha) as uow:  # nor pretend to be the other business
        uow.session.execute(text("SELECT set_config('dokani.business_id', :b, true)"), {"b": str(beta.business_id)})
        assert uow.session.execute(text("SELECT count(*) FROM return_requests")).scalar() == 0


def test_the_app_role_cannot_escape_row_level_security(two_businesses):
    with app_engine().connect() as conn:
        assert conn.execute(text("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user")).scalar() is False
        with pytest.raises(DBAPIError):  # without SET ROLE the login role has no table privileges at all
            conn.execute(text("SELECT count(*) FROM return_requests"))
        conn.rollback()
        conn.execute(text("SET ROLE authenticated"))  # no claims: sees nothing
        assert conn.execute(text("SELECT count(*) FROM return_requests")).scalar() == 0
        conn.rollback()


def test_memberships_list_only_the_users_businesses(two_businesses):
    alpha, _ = two_businesses
    names = [m.business_name for m in accounts.memberships(alpha.user_id)]
    assert names == ["alpha"]
    # No directory of members for anyone not signed in: the old demo picker's function is gone, and anon
    # reads no memberships.
    from db.engine import owner_engine

    with owner_engine().connect() as conn:
        assert conn.execute(text("SELECT to_regprocedure('dokani.sign_in_directory()')")).scalar() is None
    with app_engine().connect() as conn:
        conn.execute(text("SET ROLE anon"))
        with pytest.raises(DBAPIError):
            conn.execute(text("SELECT email FROM business_members"))
        conn.rollback()
