"""`python -m dokani serve` (what `make run` runs) starts a worker beside the console, and stops it with it."""
from __future__ import annotations

import subprocess
import time

import psycopg

from db.demo import business
from dokani.jobs import enqueue, queue
from tests.conftest import actor_for
from tests.e2e.conftest import start_app

ATLAS = business("atlas").business_id


def _rows(url, sql, *params):
    with psycopg.connect(url) as c:
        return c.execute(sql, params).fetchall()


def _wait(predicate, seconds: float, what: str, log) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.3)
    raise AssertionError(f"{what} within {seconds} s; console log:\n{log.read_text()}")


def _worker_connections(url) -> int:
    return _rows(url, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'dokani-jobs' "
                 "AND datname = current_database()")[0][0]


def test_the_console_runs_a_worker_beside_it_that_stops_with_it(fresh_db, tmp_path):
    server = start_app(fresh_db, tmp_path)
    try:
        v = dict(_rows(fresh_db, "SELECT state, id FROM policies WHERE business_id = %s", ATLAS))
        job, _ = enqueue.queue_backtest(actor_for("atlas", "admin"), v["draft"], version_name="draft",
                                        baseline_policy_id=v["active"])
        _wait(lambda: _rows(fresh_db, "SELECT state FROM background_jobs WHERE id = %s", job.id) == [("succeeded",)],
              60, "the worker beside the console did not run the queued backtest", server.log)
        assert _rows(fresh_db, "SELECT count(*) FROM policy_backtests")[0][0] == 1
    finally:
        queue.close_all()
        server.process.terminate()
        try:
            server.process.wait(20)
        except subprocess.TimeoutExpired:
            server.process.kill()
    _wait(lambda: _worker_connections(fresh_db) == 0, 30, "the worker outlived the console", server.log)
