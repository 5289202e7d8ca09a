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
