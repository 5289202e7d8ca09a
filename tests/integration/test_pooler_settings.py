"""Connection settings that work through PgBouncer in transaction mode, and the optional read replica URL."""
from __future__ import annotations

from sqlalchemy import text

from db import engine as db_engine
from db.uow import unit_of_work
from tests.conftest import actor_for


def test_the_console_prepares_no_statements_on_the_server(seeded_db):
    # psycopg prepares a query server-side after it ran 5 times (prepare_threshold); behind PgBouncer in
    # transaction mode the next run may reach a server connection that never saw it. The console never does.
    with db_engine.app_engine().connect() as conn:
        for _ in range(12):
            conn.execute(text("SELECT count(*) FROM pg_class WHERE relname = :n"), {"n": "policies"})
        assert conn.execute(text("SELECT count(*) FROM pg_prepared_statements")).scalar() == 0


def test_analytics_read_from_database_read_url_when_set(fresh_db, pg_server, seeded_template, monkeypatch):
    import uuid

    from db.url import APP_ROLE, database_name, with_user
    from tests.conftest import _clone, _drop

    assert db_engine.read_url() == db_engine.app_url()  # unset: the primary
    name = f"dokani_replica_{uuid.uuid4().hex[:8]}"  # a stand-in replica: a copy on the same server
    replica = with_user(_clone(pg_server, seeded_template, name), APP_ROLE)
    try:
        monkeypatch.setenv("DATABASE_READ_URL", replica)
        with unit_of_work(actor_for("atlas", "owner"), db_engine.read_engine()) as uow:
            assert uow.session.execute(text("SELECT current_database()")).scalar() == name
        with unit_of_work(actor_for("atlas", "owner")) as uow:  # writes and everything else: the primary
            assert uow.session.execute(text("SELECT current_database()")).scalar() == database_name(fresh_db)
    finally:
        db_engine.dispose_all()
        _drop(pg_server, name)
