"""The job queue under failure: a worker dies mid-job, two workers start together, a job is queued twice, a
queue entry runs twice. Nothing is lost, nothing is done twice, nothing half-written remains."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import psycopg
import pytest

from db.demo import business
from db.uow import unit_of_work
from dokani.jobs import enqueue, queue, records, tasks
from dokani.jobs.worker import work_until_idle
from tests.conftest import ROOT, actor_for

ATLAS = business("atlas").business_id


def _rows(url, sql, *params):
    with psycopg.connect(url) as c:
        return c.execute(sql, params).fetchall()


def _queue_sql(url, sql, *params):
    """As the owner, on procrastinate's schema (set-up of a dead worker)."""
    with psycopg.connect(url, autocommit=True) as c:
        c.execute("SET search_path = procrastinate, public")
        cur = c.execute(sql, params)
        return cur.fetchall() if cur.description else None


@pytest.fixture(autouse=True)
def _close_queue():
    yield
    queue.close_all()


def _versions(url):
    return dict(_rows(url, "SELECT state, id FROM policies WHERE business_id = %s", ATLAS))


def test_a_worker_killed_mid_job_leaves_nothing_half_written_and_the_job_runs_again(fresh_db):
    admin = actor_for("atlas", "admin")
    v = _versions(fresh_db)
    job, _ = enqueue.queue_backtest(admin, v["draft"], version_name="draft", baseline_policy_id=v["active"])
    # A worker fetched it, started it (attempt 1, 40 % done) and was killed: no heartbeat for a minute.
    dead = _queue_sql(fresh_db, "SELECT procrastinate_register_worker_v1()")[0][0]
    _queue_sql(fresh_db, "UPDATE procrastinate_workers SET last_heartbeat = now() - interval '1 minute' WHERE id = %s",
               dead)
    fetched = _queue_sql(fresh_db, "SELECT id FROM procrastinate_fetch_job_v2(NULL, %s)", dead)[0][0]
    with unit_of_work(admin) as uow:
        assert records.start(uow, job.id, fetched).attempts == 1
        records.report_progress(uow, job.id, 1, 40, 100)
    audit_before = _rows(fresh_db, "SELECT count(*) FROM audit_log WHERE action = 'policy.backtested'")[0][0]

    work_until_idle()  # a new worker: finds the dead one's job and runs it again

    with unit_of_work(admin) as uow:
        done = records.get_job(uow, job.id)
    assert done.state == "succeeded" and done.attempts == 2
    assert _rows(fresh_db, "SELECT count(*) FROM policy_backtests")[0][0] == 1
    assert _rows(fresh_db, "SELECT count(*) FROM audit_log WHERE action = 'policy.backtested'")[0][0] == audit_before + 1
    assert _queue_sql(fresh_db, "SELECT status::text FROM procrastinate_jobs WHERE id = %s", fetched) == [("succeeded",)]


def test_a_queue_entry_that_runs_again_after_the_work_committed_does_nothing(fresh_db):
    admin = actor_for("atlas", "admin")
    v = _versions(fresh_db)
    job, _ = enqueue.queue_backtest(admin, v["draft"], version_name="draft", baseline_policy_id=v["active"])
    assert tasks.run_recorded_job(admin, job.id).state == "succeeded"
    assert tasks.run_recorded_job(admin, job.id) is None  # e.g. the worker died before telling the queue
    assert _rows(fresh_db, "SELECT count(*) FROM policy_backtests")[0][0] == 1


def test_a_removed_member_cannot_have_work_done_in_their_name(fresh_db):
    admin = actor_for("atlas", "admin")
    v = _versions(fresh_db)
    job, _ = enqueue.queue_backtest(admin, v["draft"], version_name="draft", baseline_policy_id=v["active"])
    with psycopg.connect(fresh_db, autocommit=True) as c:
        c.execute("DELETE FROM business_members WHERE user_id = %s", (admin.user_id,))
    work_until_idle()
    assert _rows(fresh_db, "SELECT count(*) FROM policy_backtests")[0][0] == 0
    assert _rows(fresh_db, "SELECT state FROM background_jobs WHERE id = %s", job.id) == [("queued",)]


def test_due_policy_versions_take_effect_from_the_periodic_task(fresh_db):
    v = _versions(fresh_db)
    with psycopg.connect(fresh_db, autocommit=True) as c:
        c.execute("UPDATE policies SET state = 'scheduled', effective_date = %s WHERE id = %s",
                  (datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(minutes=5), v["draft"]))
    periodic = {p.task.name: p.cron for p in queue.queue_app().periodic_registry.periodic_tasks.values()}
    assert periodic["dokani:apply_due_policies"] == "* * * * *"
    assert tasks.apply_due_policies(int(time.time())) == 1
    assert _rows(fresh_db, "SELECT id FROM policies WHERE business_id = %s AND is_active", ATLAS) == [(v["draft"],)]
    assert tasks.apply_due_policies(int(time.time())) == 0  # the next minute: nothing left to do


def _start_worker(url, tmp_path, name):
    log = open(tmp_path / f"{name}.log", "w")
    env = {**os.environ, "DATABASE_URL": url}
    return subprocess.Popen([sys.executable, "-m", "dokani", "worker", "--name", name], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT)


def test_two_workers_started_together_do_every_job_once(fresh_db, tmp_path):
    admin = actor_for("atlas", "admin")
    v = _versions(fresh_db)
    pairs = [(v["draft"], v["active"]), (v["retired"], v["active"]), (v["active"], v["retired"])]
    jobs = [enqueue.queue_backtest(admin, p, version_name=str(p), baseline_policy_id=b)[0] for p, b in pairs]
    workers = [_start_worker(fresh_db, tmp_path, f"w{i}") for i in (1, 2)]
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            states = [s for (s,) in _rows(fresh_db, "SELECT state FROM background_jobs ORDER BY id")]
            if all(s in ("succeeded", "failed") for s in states):
                break
            assert all(w.poll() is None for w in workers), (tmp_path / "w1.log").read_text()
            time.sleep(0.5)
        assert states == ["succeeded"] * len(jobs)
        assert _rows(fresh_db, "SELECT count(*), count(DISTINCT policy_id) FROM policy_backtests") == [(3, 3)]
        assert {a for (a,) in _rows(fresh_db, "SELECT attempts FROM background_jobs")} == {1}
    finally:
        for w in workers:
            w.send_signal(signal.SIGTERM)
        for w in workers:
            assert w.wait(timeout=30) is not None


def test_a_suite_run_picked_up_again_replaces_what_its_dead_attempt_logged(fresh_db):
    from uuid import NAMESPACE_URL, uuid5

    tester = actor_for("atlas", "tester")
    path = ROOT / "examples" / "suites" / "atlas_returns_basics.yaml"
    persona = _rows(fresh_db, "SELECT id FROM provider_configs WHERE business_id = %s AND config_name LIKE %s",
                    ATLAS, "Ava%")[0][0]
    job, _ = enqueue.queue_suite_run(tester, suite_text=path.read_text(), file_name=path.name,
                                     suite_name="Atlas returns basics", persona_id=persona, policy_version="v1.1")
    run_id = str(uuid5(NAMESPACE_URL, f"dokani:background_jobs:{job.id}"))
    with unit_of_work(tester) as uow:  # attempt 1 logged two scenarios, then its worker died
        records.start(uow, job.id, None)
    with psycopg.connect(fresh_db, autocommit=True) as c:
        for name in ("half 1", "half 2"):
            c.execute("INSERT INTO persona_test_logs (business_id, config_id, test_type, test_content, test_result, "
                      "success) VALUES (%s, %s, 'scenario_suite', %s, jsonb_build_object('suite_run_id', %s::text), "
                      "true)", (ATLAS, persona, name, run_id))
    done = tasks.run_recorded_job(tester, job.id)
    assert done.state == "succeeded" and done.attempts == 2 and done.result["scenarios"] == 5
    logged = _rows(fresh_db, "SELECT test_content FROM persona_test_logs WHERE test_result->>'suite_run_id' = %s",
                   run_id)
    assert len(logged) == 5 and not {"half 1", "half 2"} & {n for (n,) in logged}


def test_a_worker_process_killed_while_storing_a_result_leaves_nothing_and_the_next_worker_redoes_it(
        fresh_db, tmp_path):
    admin = actor_for("atlas", "admin")
    v = _versions(fresh_db)
    job, _ = enqueue.queue_backtest(admin, v["draft"], version_name="draft", baseline_policy_id=v["active"])
    with psycopg.connect(fresh_db) as blocker:
        # Hold the results table: the worker replays every return, then waits to store the result.
        blocker.execute("LOCK TABLE policy_backtests IN EXCLUSIVE MODE")
        worker = _start_worker(fresh_db, tmp_path, "doomed")
        try:
            deadline = time.monotonic() + 60
            while not _rows(fresh_db, "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND "
                            "wait_event_type = 'Lock' AND query LIKE %s", "INSERT INTO policy_backtests%"):
                assert time.monotonic() < deadline and worker.poll() is None, (tmp_path / "doomed.log").read_text()
                time.sleep(0.2)
            assert _rows(fresh_db, "SELECT state, attempts FROM background_jobs WHERE id = %s", job.id) == [
                ("running", 1)]
        finally:
            worker.kill()  # mid-job, no goodbye: its heartbeat just stops
            worker.wait(10)
        blocker.rollback()
    time.sleep(2)
    work_until_idle(stalled_after=1)  # its heartbeat is older than 1 s: its job is queued again and run
    assert _rows(fresh_db, "SELECT state, attempts FROM background_jobs WHERE id = %s", job.id) == [("succeeded", 2)]
    assert _rows(fresh_db, "SELECT count(*) FROM policy_backtests")[0][0] == 1
    assert _rows(fresh_db, "SELECT count(*) FROM audit_log WHERE action = 'policy.backtested'")[0][0] == 1
