"""Background jobs on the real queue: a backtest queued by a member runs on an in-process worker, reports progress,
stores its result once; failures say why and can be retried; the tables are tenant-scoped."""
from __future__ import annotations

import psycopg
import pytest

from db.demo import business
from db.uow import unit_of_work
from dokani.errors import NotAllowed
from dokani.jobs import enqueue, queue, records
from dokani.jobs.worker import work_until_idle
from tests.conftest import actor_for

ATLAS = business("atlas").business_id


def _rows(url, sql, *params):
    with psycopg.connect(url) as c:
        return c.execute(sql, params).fetchall()


@pytest.fixture(autouse=True)
def _close_queue():
    yield
    queue.close_all()


def _draft_and_active(url):
    rows = dict(_rows(url, "SELECT state, id FROM policies WHERE business_id = %s", ATLAS))
    return rows["draft"], rows["active"]


def test_the_queue_lives_in_its_own_schema_out_of_reach_of_signed_in_users(fresh_db):
    tables = {r[0] for r in _rows(fresh_db, "SELECT tablename FROM pg_tables WHERE schemaname = 'procrastinate'")}
    assert {"procrastinate_jobs", "procrastinate_workers", "procrastinate_events"} <= tables
    assert not _rows(fresh_db, "SELECT 1 FROM pg_tables WHERE schemaname = 'public' AND tablename LIKE %s", "procrastinate%")
    with psycopg.connect(fresh_db) as c:
        c.execute("SET ROLE authenticated")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            c.execute("SELECT count(*) FROM procrastinate.procrastinate_jobs")


def test_a_queued_backtest_runs_on_a_worker_and_stores_its_result_once(fresh_db):
    admin = actor_for("atlas", "admin")
    draft, active = _draft_and_active(fresh_db)
    job, created = enqueue.queue_backtest(admin, draft, version_name="draft", baseline_policy_id=active)
    assert created and job.state == "queued", job.error
    again, created_again = enqueue.queue_backtest(admin, draft, version_name="draft", baseline_policy_id=active)
    assert (again.id, created_again) == (job.id, False)  # asked twice: one job
    assert _rows(fresh_db, "SELECT count(*) FROM procrastinate.procrastinate_jobs WHERE task_name = 'dokani:run_job'"
                 )[0][0] == 1
    assert _rows(fresh_db, "SELECT count(*) FROM policy_backtests")[0][0] == 0  # nothing ran in the request

    work_until_idle()

    with unit_of_work(admin) as uow:
        done = records.get_job(uow, job.id)
    total = _rows(fresh_db, "SELECT count(*) FROM return_requests WHERE business_id = %s", ATLAS)[0][0]
    assert done.state == "succeeded" and done.attempts == 1
    assert (done.progress_done, done.progress_total) == (total, total)
    stored = _rows(fresh_db, "SELECT id, returns_evaluated, outcomes_changed FROM policy_backtests")
    assert len(stored) == 1
    assert done.result["backtest_id"] == stored[0][0]
    assert (done.result["returns_evaluated"], done.result["outcomes_changed"]) == stored[0][1:]


def test_a_failing_job_says_why_and_a_retry_runs_it_again(fresh_db):
    admin = actor_for("atlas", "admin")
    draft, _ = _draft_and_active(fresh_db)
    # Compared with itself: the backtest refuses, and the job carries that reason.
    job, _ = enqueue.queue_backtest(admin, draft, version_name="draft", baseline_policy_id=draft)
    work_until_idle()
    with unit_of_work(admin) as uow:
        failed = records.get_job(uow, job.id)
    assert failed.state == "failed" and "choose a different baseline" in failed.error
    assert _rows(fresh_db, "SELECT count(*) FROM policy_backtests")[0][0] == 0
    # Fix the cause (as a page would: the baseline stored in the job is what is retried) then retry.
    with psycopg.connect(fresh_db, autocommit=True) as c:
        c.execute("UPDATE background_jobs SET params = params || jsonb_build_object('baseline_policy_id', "
                  "(SELECT id FROM policies WHERE business_id = %s AND is_active)) WHERE id = %s", (ATLAS, job.id))
    retried, created = enqueue.retry(admin, job.id)
    assert created and retried.retry_of == job.id
    work_until_idle()
    with unit_of_work(admin) as uow:
        assert records.get_job(uow, retried.id).state == "succeeded"
        with pytest.raises(NotAllowed):
            enqueue.retry(admin, retried.id)  # only a failed job is retried


def test_jobs_are_visible_to_their_business_only_and_viewers_cannot_queue(fresh_db):
    admin = actor_for("atlas", "admin")
    draft, active = _draft_and_active(fresh_db)
    job, _ = enqueue.queue_backtest(admin, draft, version_name="draft", baseline_policy_id=active)
    with unit_of_work(actor_for("atlas", "viewer")) as uow:
        assert records.get_job(uow, job.id).id == job.id  # every member of the business sees it
    with unit_of_work(actor_for("bloom", "owner")) as uow:
        with pytest.raises(Exception):
            records.get_job(uow, job.id)
    with pytest.raises(NotAllowed):
        enqueue.queue_backtest(actor_for("atlas", "viewer"), draft, version_name="draft", baseline_policy_id=active)
