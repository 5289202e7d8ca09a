"""Revision 0003 on a fresh and on an adopted database: search indexes, odd statuses, duplicate events."""
from __future__ import annotations

import uuid

import psycopg

from db.migrate import upgrade
from db.url import with_database


def _db(pg_server: str):
    name = f"dokani_mig_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(with_database(pg_server, "postgres"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name, with_database(pg_server, name)


def _drop(pg_server: str, name: str) -> None:
    with psycopg.connect(with_database(pg_server, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_adopted_database_with_odd_statuses_and_duplicate_events_upgrades(pg_server):
    name, url = _db(pg_server)
    try:
        upgrade(url, "0002")
        with psycopg.connect(url) as conn:
            conn.execute("INSERT INTO auth.users (id) VALUES ('00000000-0000-0000-0000-000000000001')")
            bid = conn.execute("INSERT INTO profiles (id, business_name) VALUES ('00000000-0000-0000-0000-000000000001', 'Old') "
                               "RETURNING business_id").fetchone()[0]
            rid = conn.execute("INSERT INTO return_requests (business_id, order_id, customer_email, status) "
                               "VALUES (%s, 'O-1', 'a@b.c', 'on_hold_legacy') RETURNING id", (bid,)).fetchone()[0]
            for _ in range(2):
                conn.execute("INSERT INTO security_events (event_type, business_id, return_request_id) VALUES "
                             "('velocity', %s, %s)", (bid, rid))
        assert upgrade(url) is not None
        with psycopg.connect(url) as conn:
            indexes = {r[0]: r[1] for r in conn.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN ('return_requests', 'security_events')")}
            # the odd status row is still there and still editable
            conn.execute("UPDATE return_requests SET admin_notes = 'kept' WHERE id = %s", (rid,))
            assert conn.execute("SELECT status FROM return_requests WHERE id = %s", (rid,)).fetchone()[0] == "on_hold_legacy"
            trgm = conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'").fetchone()
        assert "UNIQUE" not in indexes["security_events_return_type_key"]  # duplicates kept, plain index instead
        assert "return_requests_queue_risk_idx" in indexes and "return_requests_queue_age_idx" in indexes
        if trgm:
            assert "gin_trgm_ops" in indexes["return_requests_order_id_trgm_idx"]
    finally:
        _drop(pg_server, name)


def test_fresh_database_has_unique_events_and_trigram_search(empty_db):
    with psycopg.connect(empty_db) as conn:
        indexes = {r[0]: r[1] for r in conn.execute("SELECT indexname, indexdef FROM pg_indexes")}
        available = conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'").fetchone()
        cols = {r[0] for r in conn.execute("SELECT column_name FROM information_schema.columns "
                                           "WHERE table_name = 'return_requests'")}
    assert "UNIQUE" in indexes["security_events_return_type_key"]
    assert {"ai_confidence", "triage_details"} <= cols
    if available:
        for column in ("order_id", "customer_email", "public_id"):
            assert "gin_trgm_ops" in indexes[f"return_requests_{column}_trgm_idx"]
