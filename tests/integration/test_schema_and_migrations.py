"""The schema document, faithfully, on a real server; idempotent migrations; adopting an existing database."""
from __future__ import annotations

import re
import threading
import uuid

import psycopg
import pytest

from db.migrate import upgrade
from db.url import with_database
from tests.schema_doc import DOC, SHARED_DOC, as_ddl, parse

DOC_TABLES = parse()


def _conn(url: str) -> psycopg.Connection:
    return psycopg.connect(url, autocommit=True)


@pytest.fixture
def blank_db(pg_server):
    name = f"dokani_blank_{uuid.uuid4().hex[:8]}"
    with _conn(with_database(pg_server, "postgres")) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    yield with_database(pg_server, name)
    with _conn(with_database(pg_server, "postgres")) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_vendored_document_matches_shared_copy():
    if SHARED_DOC.exists():
        assert DOC.read_text() == SHARED_DOC.read_text()
    assert len(DOC_TABLES) == 27


def test_every_column_of_the_document_exists_as_written(empty_db):
    with _conn(empty_db) as c:
        rows = c.execute(
            """
            SELECT table_schema, table_name, column_name, data_type, is_nullable, column_default
            FROM information_schema.columns WHERE table_schema IN ('public', 'auth')
            """
        ).fetchall()
        actual = {(r[0], r[1], r[2]): r[3:] for r in rows}
        missing, wrong = [], []
        for t in DOC_TABLES:
            for col in t.columns:
                got = actual.get((t.schema, t.name, col.name))
                if got is None:
                    missing.append(f"{t.name}.{col.name}")
                    continue
                data_type, nullable, default = got
                if data_type != col.pg_type:
                    wrong.append(f"{t.name}.{col.name}: {data_type} != {col.pg_type}")
                if col.not_null and nullable != "NO":
                    wrong.append(f"{t.name}.{col.name} should be NOT NULL")
                if col.default and col.default != "'{...}'":
                    expected = col.default.split("(")[0].strip("'")
                    if default is None or expected not in default:
                        wrong.append(f"{t.name}.{col.name}: default {default!r}, document says {col.default}")
        assert not missing, missing
        assert not wrong, wrong


def test_constraints_of_the_document_exist(empty_db):
    with _conn(empty_db) as c:
        def constraint(table: str, contype: str, column: str) -> str | None:
            row = c.execute(
                """
                SELECT pg_get_constraintdef(k.oid) FROM pg_constraint k
                JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = ANY (k.conkey)
                WHERE k.conrelid = %s::regclass AND k.contype = %s AND a.attname = %s
                """,
                (table, contype, column),
            ).fetchone()
            return row[0] if row else None

        problems = []
        for t in DOC_TABLES:
            q = f"{t.schema}.{t.name}"
            for col in t.columns:
                if "PRIMARY KEY" in col.line and not constraint(q, "p", col.name):
                    problems.append(f"{q}.{col.name} primary key")
                if col.references:
                    target = col.references
                    got = constraint(q, "f", col.name)
                    table, column = target.rsplit(".", 1)
                    if not got or not re.search(rf"REFERENCES {re.escape(table)}\({column}\)", got):
                        problems.append(f"{q}.{col.name} -> {target}: {got}")
                if " UNIQUE" in col.line and not constraint(q, "u", col.name):
                    problems.append(f"{q}.{col.name} unique")
                if col.check:
                    got = constraint(q, "c", col.name)
                    values = re.findall(r"'(\w+)'", col.check)
                    if not got or not all(v in got for v in values):
                        problems.append(f"{q}.{col.name} check: {got}")
        assert not problems, problems


def test_row_level_security_is_enabled_on_every_table(empty_db):
    with _conn(empty_db) as c:
        off = c.execute(
            "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r' "
            "AND NOT relrowsecurity AND relname <> 'alembic_version'"
        ).fetchall()
        assert off == []


def test_uuid_generate_v4_works_without_the_extension(empty_db):
    with _conn(empty_db) as c:
        value = c.execute("SELECT uuid_generate_v4()").fetchone()[0]
        assert isinstance(value, uuid.UUID) and value.version == 4


def test_migrate_is_idempotent_and_safe_when_two_processes_start_together(blank_db):
    results, errors = [], []

    def run():
        try:
            results.append(upgrade(blank_db))
        except Exception as exc:  # pragma: no cover - the assertion below reports it
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert results and set(results) == {results[0]}
    assert upgrade(blank_db) == results[0]


def _build_from_document(url: str) -> None:
    """What an existing Supabase project built from the document looks like: plain DDL, no Alembic."""
    statements = [s + ";" for s in as_ddl(DOC_TABLES).split(";\n") if s.strip()]
    with _conn(url) as c:
        c.execute("CREATE SCHEMA auth")
        c.execute("CREATE FUNCTION uuid_generate_v4() RETURNS uuid LANGUAGE sql AS 'SELECT gen_random_uuid()'")
        pending = statements
        while pending:  # foreign keys point forward in the document; retry until all exist
            failed = []
            for s in pending:
                try:
                    c.execute(s)
                except psycopg.errors.UndefinedTable:
                    failed.append(s)
            assert len(failed) < len(pending), failed
            pending = failed


def test_adopts_an_existing_document_database_without_losing_rows(blank_db):
    _build_from_document(blank_db)
    user, business = uuid.uuid4(), uuid.uuid4()
    with _conn(blank_db) as c:
        c.execute("INSERT INTO auth.users (id, email) VALUES (%s, 'owner@old.example')", (user,))
        c.execute("INSERT INTO profiles (id, business_name, business_id) VALUES (%s, 'Old Shop', %s)", (user, business))
        c.execute(
            "INSERT INTO policies (id, business_id, version, is_active, rules) VALUES "
            "(1, %s, 'v1', true, '{\"return_window_days\": 30}'), (2, %s, 'v2', false, '{}')",
            (business, business),
        )
        for i in range(1, 51):
            c.execute(
                "INSERT INTO return_requests (id, business_id, order_id, customer_email, reason_for_return, status) "
                "VALUES (%s, %s, %s, %s, 'broken', 'pending_review')",
                (i, business, f"OLD-{i}", f"c{i % 7}@old.example"),
            )
        c.execute("INSERT INTO mock_orders (id, order_id, purchase_date, customer_email, product_name, product_category) "
                  "VALUES (1, 'OLD-1', now(), 'c1@old.example', 'Mug', 'home')")
        before = {t: c.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                  for t in ("auth.users", "profiles", "policies", "return_requests", "mock_orders")}

    revision = upgrade(blank_db)
    assert revision is not None
    assert upgrade(blank_db) == revision  # adopting twice changes nothing

    with _conn(blank_db) as c:
        after = {t: c.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in before}
        assert after == before
        # Old rows keep their values; missing pieces were added (RLS, app tables, identity for new rows).
        assert c.execute("SELECT business_name FROM profiles").fetchone()[0] == "Old Shop"
        assert c.execute("SELECT count(*) FROM return_requests WHERE status = 'pending_review'").fetchone()[0] == 50
        assert c.execute("SELECT relrowsecurity FROM pg_class WHERE oid = 'return_requests'::regclass").fetchone()[0]
        new_id = c.execute(
            "INSERT INTO return_requests (business_id, order_id, customer_email) VALUES (%s, 'NEW-1', 'n@old.example') "
            "RETURNING id", (business,)
        ).fetchone()[0]
        assert new_id > 50
        assert c.execute("SELECT business_id FROM mock_orders WHERE order_id = 'OLD-1'").fetchone()[0] == business
        assert c.execute("SELECT to_regclass('public.audit_log') IS NOT NULL").fetchone()[0]
