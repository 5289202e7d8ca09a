"""Revision 0004 adopts a database that broke the rules before they existed."""
from __future__ import annotations

import uuid

import psycopg
import pytest

from db.migrate import upgrade
from db.url import with_database


@pytest.fixture
def legacy_db(pg_server):
    name = f"dokani_mig_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(with_database(pg_server, "postgres"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = with_database(pg_server, name)
    upgrade(url, "0003")
    yield url
    with psycopg.connect(with_database(pg_server, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_two_active_versions_keep_the_newest_effective_one(legacy_db):
    biz = uuid.uuid4()
    with psycopg.connect(legacy_db, autocommit=True) as conn:
        user = conn.execute("INSERT INTO auth.users (email) VALUES ('o@x.example') RETURNING id").fetchone()[0]
        conn.execute("INSERT INTO profiles (id, business_name, business_id) VALUES (%s, 'X', %s)", (user, biz))
        rows = [  # version, is_active, effective_date
            ("v1", True, "2025-01-01"), ("v2", True, "2025-06-01"), ("v3", True, None),
            ("v2", False, "2024-01-01"), ("draft", False, None),
        ]
        for version, active, effective in rows:
            conn.execute("INSERT INTO policies (business_id, version, is_active, effective_date, rules) "
                         "VALUES (%s, %s, %s, %s, '{}')", (biz, version, active, effective))
    upgrade(legacy_db)
    with psycopg.connect(legacy_db, autocommit=True) as conn:
        got = conn.execute("SELECT id, version, is_active, state FROM policies ORDER BY id").fetchall()
        assert [(v, a, s) for _, v, a, s in got] == [
            ("v1", False, "retired"),
            ("v2", True, "active"),  # latest effective date wins; NULL counts as oldest
            ("v3", False, "retired"),
            (f"v2 #{got[3][0]}", False, "retired"),  # duplicate name: the later row is renamed
            ("draft", False, "draft"),
        ]
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute("UPDATE policies SET is_active = true WHERE version = 'v1'")


@pytest.fixture
def db_at_0005(pg_server):
    name = f"dokani_mig_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(with_database(pg_server, "postgres"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = with_database(pg_server, name)
    upgrade(url, "0005")
    yield url
    with psycopg.connect(with_database(pg_server, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_revision_0008_rebuilds_the_periods_a_roll_back_overwrote(db_at_0005):
    """v1 took effect before the audit trail; v2 replaced it, v3 replaced v2, then v2 was rolled back to —
    which used to overwrite v2's effective date and leave it a retired_at while active."""
    import json

    biz = uuid.uuid4()

    def policy(conn, version, state, effective, retired):
        return conn.execute("INSERT INTO policies (business_id, version, state, is_active, effective_date, retired_at, "
                            "rules) VALUES (%s, %s, %s, %s, %s, %s, '{}') RETURNING id",
                            (biz, version, state, state == "active", effective, retired)).fetchone()[0]

    def audit(conn, action, policy_id, before_effective, after_effective):
        conn.execute("INSERT INTO audit_log (business_id, action, entity, entity_id, before, after) "
                     "VALUES (%s, %s, 'policy', %s, %s, %s)",
                     (biz, action, str(policy_id), json.dumps({"effective_date": before_effective}),
                      json.dumps({"effective_date": after_effective})))

    with psycopg.connect(db_at_0005, autocommit=True) as conn:
        user = conn.execute("INSERT INTO auth.users (email) VALUES ('o@x.example') RETURNING id").fetchone()[0]
        conn.execute("INSERT INTO profiles (id, business_name, business_id) VALUES (%s, 'X', %s)", (user, biz))
        v1 = policy(conn, "v1", "retired", "2025-01-01", "2025-03-01")
        v2 = policy(conn, "v2", "active", "2025-06-01", "2025-05-01")  # as the old roll back left it
        v3 = policy(conn, "v3", "retired", "2025-05-01", "2025-06-01")
        audit(conn, "policy.activated", v2, None, "2025-03-01T00:00:00")
        audit(conn, "policy.activated", v3, None, "2025-05-01T00:00:00")
        audit(conn, "policy.rolled_back", v2, "2025-03-01T00:00:00", "2025-06-01T00:00:00")
    upgrade(db_at_0005)
    with psycopg.connect(db_at_0005, autocommit=True) as conn:
        periods = conn.execute("SELECT policy_id, how, started_at::date::text, ended_at::date::text "
                               "FROM policy_activations ORDER BY started_at").fetchall()
        rows = conn.execute("SELECT id, effective_date::date::text, retired_at::date::text FROM policies "
                            "ORDER BY id").fetchall()
    assert periods == [
        (v1, "recorded", "2025-01-01", "2025-03-01"),
        (v2, "activated", "2025-03-01", "2025-05-01"),
        (v3, "activated", "2025-05-01", "2025-06-01"),
        (v2, "rolled_back", "2025-06-01", None),
    ]
    assert rows == [(v1, "2025-01-01", "2025-03-01"), (v2, "2025-03-01", None), (v3, "2025-05-01", "2025-06-01")]
