"""Real Postgres for every test.

- ``TEST_DATABASE_URL`` set (e.g. the machine's PostgreSQL at 127.0.0.1:5432): databases are created there.
- unset: an embedded server under ``.pgdata-test/`` (git-ignored), started once per run.
- ``TEST_PGBOUNCER_URL`` (``make test-pgbouncer``, ``tests/pgbouncer.py``): the app's own connections
  (``DOKANI_APP_DATABASE_URL``: units of work, the job queue, workers) go through that PgBouncer in transaction
  mode; migrations, clones and seeding still go to the server.

A template database is migrated and seeded once per run; each test that writes gets its own copy
(``fresh_db``), cloned from the template in well under a second. Tests that only read may share one
(``seeded_db``). Either fixture points ``DATABASE_URL`` at its database, so the app code under test
(and Streamlit's AppTest) talk to it exactly as they would in production.
"""
from __future__ import annotations

import os
import uuid
from pathlib import Path

import psycopg
import pytest

from db import engine as db_engine
from db.demo import business, user
from db.url import with_database, with_user
from db.uow import Actor

ROOT = Path(__file__).resolve().parent.parent
SEED = 7


def _server_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    os.environ.setdefault("DOKANI_PGDATA", str(ROOT / ".pgdata-test"))
    from db import embedded

    return embedded.ensure_running(Path(os.environ["DOKANI_PGDATA"]))


def _admin(url: str) -> psycopg.Connection:
    return psycopg.connect(with_database(url, "postgres"), autocommit=True)


def _drop(server: str, name: str) -> None:
    with _admin(server) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _clone(server: str, template: str, name: str) -> str:
    with _admin(server) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return with_database(server, name)


@pytest.fixture(scope="session")
def pg_server() -> str:
    """Owner URL of the server the tests use."""
    return _server_url()


@pytest.fixture(scope="session")
def empty_template(pg_server: str):
    """A migrated database with no rows in it."""
    from db.migrate import upgrade

    name = f"dokani_tpl_empty_{os.getpid()}"
    _drop(pg_server, name)
    with _admin(pg_server) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    upgrade(with_database(pg_server, name))
    yield name
    _drop(pg_server, name)


@pytest.fixture(scope="session")
def seeded_template(pg_server: str, empty_template: str):
    """A migrated database with the small deterministic demo data set."""
    from db.seed import SeedSize, seed_database

    name = f"dokani_tpl_seeded_{os.getpid()}"
    _drop(pg_server, name)
    url = _clone(pg_server, empty_template, name)
    seed_database(url, seed=SEED, size=SeedSize.small(), progress=False)
    yield name
    _drop(pg_server, name)


def _use(monkeypatch, url: str) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    pooler = os.environ.get("TEST_PGBOUNCER_URL")  # `make test-pgbouncer`: the app connects through PgBouncer
    if pooler:
        from db.url import APP_ROLE, database_name

        monkeypatch.setenv("DOKANI_APP_DATABASE_URL", with_database(with_user(pooler, APP_ROLE), database_name(url)))
    else:
        monkeypatch.delenv("DOKANI_APP_DATABASE_URL", raising=False)
    db_engine.dispose_all()


@pytest.fixture(scope="module")
def seeded_db(pg_server: str, seeded_template: str):
    """A seeded database shared by the tests of one module: read, don't write."""
    name = f"dokani_ro_{uuid.uuid4().hex[:10]}"
    url = _clone(pg_server, seeded_template, name)
    mp = pytest.MonkeyPatch()
    _use(mp, url)
    yield url
    db_engine.dispose_all()
    mp.undo()
    _drop(pg_server, name)


@pytest.fixture
def fresh_db(pg_server: str, seeded_template: str, monkeypatch):
    """A seeded database of this test's own: write freely."""
    name = f"dokani_t_{uuid.uuid4().hex[:10]}"
    url = _clone(pg_server, seeded_template, name)
    _use(monkeypatch, url)
    yield url
    db_engine.dispose_all()
    _drop(pg_server, name)


@pytest.fixture
def empty_db(pg_server: str, empty_template: str, monkeypatch):
    """A migrated database with no rows: for empty states and imports."""
    name = f"dokani_e_{uuid.uuid4().hex[:10]}"
    url = _clone(pg_server, empty_template, name)
    _use(monkeypatch, url)
    yield url
    db_engine.dispose_all()
    _drop(pg_server, name)


def actor_for(business_key: str, slug: str = "owner") -> Actor:
    u = user(business_key, slug)
    return Actor(user_id=u.user_id, business_id=business(business_key).business_id, role=u.role, email=u.email)


@pytest.fixture
def atlas_owner() -> Actor:
    return actor_for("atlas", "owner")


@pytest.fixture
def atlas_reviewer() -> Actor:
    return actor_for("atlas", "reviewer")


@pytest.fixture
def bloom_owner() -> Actor:
    return actor_for("bloom", "owner")


# Property tests (issue 12): bounded everywhere; derandomised in CI so a red build is reproducible.
from hypothesis import HealthCheck, settings as _hypothesis_settings  # noqa: E402

_hypothesis_settings.register_profile(
    "ci", derandomize=True, deadline=None, print_blob=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
_hypothesis_settings.register_profile(
    "dev", deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
_hypothesis_settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "dev"))
