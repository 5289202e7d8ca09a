"""The console and its job queue through PgBouncer in transaction mode (Debian's `pgbouncer`; skipped when it is
not installed): no server-side prepared statements, no session state between transactions."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import psycopg
import pytest

from db import engine as db_engine
from db.demo import business
from db.uow import unit_of_work
from db.url import APP_ROLE, database_name
from dokani.jobs import enqueue, queue, records
from dokani.jobs.worker import work_until_idle
from dokani.policies import versions
from tests.conftest import actor_for
from tests.pgbouncer import PGBOUNCER, start

pytestmark = pytest.mark.skipif(PGBOUNCER is None, reason="pgbouncer is not installed (apt-get install pgbouncer)")
ATLAS = business("atlas").business_id


@pytest.fixture
def pgbouncer(fresh_db, monkeypatch):
    """PgBouncer in transaction mode in front of the test's database; the app and the queue connect through it."""
    bouncer = start(fresh_db, users=(APP_ROLE, "postgres"), pool_size=4,
                    extra_databases=f"one_server = host={_host(fresh_db)} port={urlsplit(fresh_db).port or 5432} "
                                    f"dbname={database_name(fresh_db)} pool_size=1")
    through = bouncer.url(APP_ROLE, database_name(fresh_db))
    monkeypatch.setenv("DOKANI_APP_DATABASE_URL", through)
    db_engine.dispose_all()
    yield through
    queue.close_all()
    db_engine.dispose_all()
    bouncer.stop()


def _host(url: str) -> str:
    parts = urlsplit(url)
    return parse_qs(parts.query).get("host", [parts.hostname or "127.0.0.1"])[0]


def test_two_console_connections_sharing_one_server_connection_never_collide(pgbouncer):
    # Behind a transaction-mode pooler, clients take turns on server connections; a statement psycopg prepared
    # (after 5 runs) on one client would collide with, or be missing for, the next. The console prepares none.
    from sqlalchemy import text

    engine = db_engine.engine_for(pgbouncer.replace(f"/{urlsplit(pgbouncer).path.lstrip('/')}", "/one_server"))
    with engine.connect() as a, engine.connect() as b:
        for _ in range(12):
            for conn in (a, b):
                assert conn.execute(text("SELECT count(*) FROM pg_class WHERE relname = :n"), {"n": "policies"}
                                    ).scalar() == 1
                conn.commit()


def test_units_of_work_and_background_jobs_work_through_pgbouncer_in_transaction_mode(pgbouncer, fresh_db):
    admin = actor_for("atlas", "admin")
    assert db_engine.app_url() == pgbouncer
    for _ in range(12):  # past psycopg's prepare threshold: a prepared statement would be lost between servers
        with unit_of_work(admin) as uow:
            listed = versions.list_versions(uow)
    states = {v.state: v.id for v in listed}
    job, created = enqueue.queue_backtest(admin, states["draft"], version_name="draft",
                                          baseline_policy_id=states["active"])
    assert created and job.state == "queued"
    work_until_idle()
    with unit_of_work(admin) as uow:
        assert records.get_job(uow, job.id).state == "succeeded"
    with psycopg.connect(fresh_db) as c:
        assert c.execute("SELECT count(*) FROM policy_backtests").fetchone()[0] == 1
