"""The database drops every connection (a restart, a failover): the next action reconnects and succeeds, for the
console's units of work and for queueing a job."""
from __future__ import annotations

import psycopg

from db.demo import business
from db.uow import unit_of_work
from dokani.jobs import enqueue, queue
from dokani.policies import versions
from tests.conftest import actor_for

ATLAS = business("atlas").business_id


def _drop_every_connection(url) -> int:
    with psycopg.connect(url, autocommit=True) as c:
        return c.execute("SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
                         "WHERE datname = current_database() AND pid <> pg_backend_pid()").fetchone()[0]


def test_after_the_server_drops_every_connection_the_next_actions_succeed(fresh_db):
    admin = actor_for("atlas", "admin")
    try:
        with unit_of_work(admin) as uow:
            states = {v.state: v.id for v in versions.list_versions(uow)}
        first, _ = enqueue.queue_backtest(admin, states["draft"], version_name="draft",
                                          baseline_policy_id=states["active"])
        assert _drop_every_connection(fresh_db) >= 2  # the console's pooled connection and the queue's
        with unit_of_work(admin) as uow:
            assert {v.id for v in versions.list_versions(uow)} == set(states.values())
        second, created = enqueue.queue_backtest(admin, states["retired"], version_name="retired",
                                                 baseline_policy_id=states["active"])
        assert created and second.state == "queued", second.error
    finally:
        queue.close_all()
