"""The console and its job queue through PgBouncer in transaction mode (Debian's `pgbouncer`; skipped when it is
not installed): no server-side prepared statements, no session state between transactions."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
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

PGBOUNCER = shutil.which("pgbouncer") or ("/usr/sbin/pgbouncer" if Path("/usr/sbin/pgbouncer").exists() else None)
pytestmark = pytest.mark.skipif(PGBOUNCER is None, reason="pgbouncer is not installed (apt-get install pgbouncer)")
ATLAS = business("atlas").business_id


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def pgbouncer(fresh_db, monkeypatch):
    """PgBouncer in transaction mode in front of the test's database; the app and the queue connect through it."""
    parts = urlsplit(fresh_db)
    host = parse_qs(parts.query).get("host", [parts.hostname or "127.0.0.1"])[0]
    server_port = parts.port or 5432
    # pgbouncer refuses to run as root: run it as the user that owns the server's socket directory, or nobody.
    run_as = Path(host).owner() if host.startswith("/") else "nobody"
    port = _free_port()
    folder = Path(tempfile.mkdtemp(prefix="dokani-pgbouncer-"))
    folder.chmod(0o755)
    (folder / "users.txt").write_text(f'"{APP_ROLE}" ""\n"postgres" ""\n')
    (folder / "pgbouncer.ini").write_text(f"""[databases]
one_server = host={host} port={server_port} dbname={database_name(fresh_db)} pool_size=1
* = host={host} port={server_port}
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {folder / 'users.txt'}
pool_mode = transaction
default_pool_size = 4
max_client_conn = 200
ignore_startup_parameters = extra_float_digits, options
logfile = {folder / 'pgbouncer.log'}
pidfile = {folder / 'pgbouncer.pid'}
""")
    for f in folder.iterdir():
        f.chmod(0o644)
    os.chown(folder, *_ids(run_as))
    process = subprocess.Popen([PGBOUNCER, "-u", run_as, str(folder / "pgbouncer.ini")], stdout=subprocess.DEVNULL,
                               stderr=subprocess.STDOUT)
    through = f"postgresql://{APP_ROLE}@127.0.0.1:{port}/{database_name(fresh_db)}"
    deadline = time.monotonic() + 10
    while True:
        try:
            psycopg.connect(through, connect_timeout=2).close()
            break
        except psycopg.OperationalError:
            if time.monotonic() > deadline or process.poll() is not None:
                log = folder / "pgbouncer.log"
                pytest.fail(f"pgbouncer did not start: {log.read_text() if log.exists() else 'no log'}")
            time.sleep(0.2)
    monkeypatch.setenv("DOKANI_APP_DATABASE_URL", through)
    db_engine.dispose_all()
    yield through
    queue.close_all()
    db_engine.dispose_all()
    process.terminate()
    process.wait(10)
    shutil.rmtree(folder, ignore_errors=True)


def _ids(user: str) -> tuple[int, int]:
    import pwd

    entry = pwd.getpwnam(user)
    return entry.pw_uid, entry.pw_gid


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
