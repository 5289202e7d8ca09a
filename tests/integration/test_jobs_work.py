"""The rest of the background work as jobs (issue 13): risk recomputes, imports of large files, CSV exports.

Each runs through a real in-process worker: queued once however often it is asked for, progress recorded, a
failure says why and a retry does it, a worker killed mid-job leaves nothing and the job picked up again does
the work exactly once."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import psycopg
import pytest

from db.demo import business
from db.uow import unit_of_work
from dokani.errors import NotAllowed
from dokani.jobs import enqueue, exports, imports, queue, records, tasks
from dokani.jobs.risk_recompute import queue_risk_recompute
from dokani.jobs.triage import queue_triage
from dokani.jobs.worker import work_until_idle
from dokani.returns.filters import ReturnQueueFilter
from tests.conftest import ROOT, actor_for

ATLAS = business("atlas").business_id


@pytest.fixture(autouse=True)
def _close_queue():
    yield
    queue.close_all()


def _rows(url, sql, *params):
    with psycopg.connect(url) as c:
        return c.execute(sql, params).fetchall()


def _one(url, sql, *params):
    return _rows(url, sql, *params)[0][0]


def _job(actor, job_id) -> records.JobRecord:
    with unit_of_work(actor) as uow:
        return records.get_job(uow, job_id)


def _csv(n: int, prefix: str = "IMP") -> bytes:
    lines = ["order_id,customer_email,reason_for_return,order_value,product_category"]
    lines += [f"{prefix}-{i},buyer{i}@example.com,arrived late {i},{10 + i % 90}.50,home" for i in range(1, n + 1)]
    return ("\n".join(lines) + "\n").encode()


def _imported(url, prefix: str = "IMP") -> int:
    return _one(url, "SELECT count(*) FROM return_requests WHERE business_id = %s AND order_id LIKE %s", ATLAS,
                f"{prefix}-%")


def _die_mid_job(url, actor, job_id, done=40, total=100) -> None:
    """A worker fetched the job, started it (attempt 1) and was killed: no heartbeat for a minute."""
    with psycopg.connect(url, autocommit=True) as c:
        c.execute("SET search_path = procrastinate, public")
        dead = c.execute("SELECT procrastinate_register_worker_v1()").fetchone()[0]
        c.execute("UPDATE procrastinate_workers SET last_heartbeat = now() - interval '1 minute' WHERE id = %s",
                  (dead,))
        fetched = c.execute("SELECT id FROM procrastinate_fetch_job_v2(NULL, %s)", (dead,)).fetchone()[0]
    with unit_of_work(actor) as uow:
        assert records.start(uow, job_id, fetched).attempts == 1
        records.report_progress(uow, job_id, 1, done, total)


def _refuse_inserts(url, table: str, when: str) -> None:
    """A real failure while writing (a trigger, not a mock)."""
    with psycopg.connect(url, autocommit=True) as c:
        c.execute(f"""
            CREATE FUNCTION public.refuse_write() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN IF {when} THEN RAISE EXCEPTION 'disk full (simulated)'; END IF; RETURN NEW; END $$;
            CREATE TRIGGER refuse_write BEFORE INSERT OR UPDATE ON public.{table}
              FOR EACH ROW EXECUTE FUNCTION public.refuse_write();
        """)


def _allow_inserts(url, table: str) -> None:
    with psycopg.connect(url, autocommit=True) as c:
        c.execute(f"DROP TRIGGER refuse_write ON public.{table}; DROP FUNCTION public.refuse_write()")


# --- risk recompute ------------------------------------------------------------------------------------------

def _recomputes(url: str) -> int:
    return _one(url, "SELECT count(*) FROM audit_log WHERE action = 'risk.recomputed'")


def test_a_risk_recompute_is_one_job_however_often_asked_and_records_its_progress_and_result(fresh_db):
    admin, reviewer = actor_for("atlas", "admin"), actor_for("atlas", "reviewer")
    base = _recomputes(fresh_db)  # the seed's own scoring runs
    job, created = queue_risk_recompute(admin)
    again, created_again = queue_risk_recompute(reviewer)
    assert created and not created_again and again.id == job.id
    assert _recomputes(fresh_db) == base  # not inline
    work_until_idle()
    done = _job(admin, job.id)
    customers = _one(fresh_db, "SELECT count(DISTINCT customer_email) FROM (SELECT customer_email FROM return_requests "
                     "WHERE business_id = %s AND NOT is_test UNION SELECT customer_email FROM customer_risk_profiles "
                     "WHERE business_id = %s UNION SELECT customer_email FROM security_events WHERE business_id = %s) t",
                     ATLAS, ATLAS, ATLAS)
    assert done.state == "succeeded" and done.result["customers"] == customers
    assert done.progress_done == done.progress_total == customers
    assert _recomputes(fresh_db) == base + 1


def test_testers_and_viewers_cannot_queue_a_risk_recompute(fresh_db):
    for slug in ("tester", "viewer"):
        with pytest.raises(NotAllowed):
            queue_risk_recompute(actor_for("atlas", slug))
    assert _one(fresh_db, "SELECT count(*) FROM background_jobs") == 0


def test_a_failed_risk_recompute_says_why_wrote_nothing_and_its_retry_rescores(fresh_db):
    admin = actor_for("atlas", "admin")
    base = _recomputes(fresh_db)  # the seed's own scoring runs
    with psycopg.connect(fresh_db) as c:  # profiles written elsewhere: the recompute has work to do
        c.execute("UPDATE customer_risk_profiles SET behavior_patterns = '{}'")
    before = _rows(fresh_db, "SELECT customer_email, risk_score, behavior_patterns FROM customer_risk_profiles ORDER BY 1")
    _refuse_inserts(fresh_db, "customer_risk_profiles", "true")
    job, _ = queue_risk_recompute(admin)
    work_until_idle()
    failed = _job(admin, job.id)
    assert failed.state == "failed" and "nothing of it was stored" in failed.error
    assert _rows(fresh_db, "SELECT customer_email, risk_score, behavior_patterns FROM customer_risk_profiles "
                           "ORDER BY 1") == before
    assert _recomputes(fresh_db) == base
    _allow_inserts(fresh_db, "customer_risk_profiles")
    retried, created = enqueue.retry(admin, job.id)
    assert created and retried.retry_of == job.id
    work_until_idle()
    assert _job(admin, retried.id).state == "succeeded"
    assert _recomputes(fresh_db) == base + 1


def test_a_risk_recompute_whose_worker_died_runs_again_once(fresh_db):
    admin = actor_for("atlas", "admin")
    base = _recomputes(fresh_db)  # the seed's own scoring runs
    job, _ = queue_risk_recompute(admin)
    _die_mid_job(fresh_db, admin, job.id)
    work_until_idle()
    done = _job(admin, job.id)
    assert done.state == "succeeded" and done.attempts == 2
    assert _recomputes(fresh_db) == base + 1


# --- returns import ------------------------------------------------------------------------------------------

def test_triage_of_the_new_returns_is_one_job_run_by_a_worker_with_progress(fresh_db):
    reviewer, owner = actor_for("atlas", "reviewer"), actor_for("atlas", "owner")
    new = _one(fresh_db, "SELECT count(*) FROM return_requests WHERE business_id = %s AND status = 'pending_triage' "
                         "AND NOT is_test", ATLAS)
    assert new > 0
    job, created = queue_triage(reviewer)
    again, created_again = queue_triage(owner)
    assert created and not created_again and again.id == job.id
    assert _one(fresh_db, "SELECT count(*) FROM return_requests WHERE business_id = %s AND status = 'pending_triage' "
                          "AND NOT is_test", ATLAS) == new  # not inline
    work_until_idle()
    done = _job(reviewer, job.id)
    assert done.state == "succeeded" and done.result["triaged"] == new
    assert done.progress_done == done.progress_total == new
    assert f"Triaged {new} of {new}" in done.result["summary"]
    assert _one(fresh_db, "SELECT count(*) FROM return_requests WHERE business_id = %s AND status = 'pending_triage' "
                          "AND NOT is_test", ATLAS) == 0
    # as the reviewer who asked, in the audit log
    assert _one(fresh_db, "SELECT count(*) FROM audit_log WHERE business_id = %s AND action = 'triage' "
                          "AND actor_email = %s AND created_at >= %s", ATLAS, reviewer.email, done.created_at) == new


def test_testers_and_viewers_cannot_queue_a_triage(fresh_db):
    for slug in ("tester", "viewer"):
        with pytest.raises(NotAllowed):
            queue_triage(actor_for("atlas", slug))
    assert _one(fresh_db, "SELECT count(*) FROM background_jobs") == 0


def test_a_returns_file_is_stored_imported_by_a_worker_once_and_its_copy_dropped(fresh_db):
    owner = actor_for("atlas", "owner")
    data = _csv(2500)
    job, created = imports.queue_returns_import(owner, "big.csv", data)
    again, created_again = imports.queue_returns_import(owner, "big.csv", data)  # clicked twice
    assert created and not created_again and again.id == job.id
    assert _rows(fresh_db, "SELECT purpose, file_name, size_bytes FROM job_files") == [("input", "big.csv", len(data))]
    assert _imported(fresh_db) == 0  # nothing in the page request
    work_until_idle()
    done = _job(owner, job.id)
    assert done.state == "succeeded" and done.result == {"imported": 2500, "file_name": "big.csv"}
    assert done.progress_done == done.progress_total == 2500
    assert _imported(fresh_db) == 2500
    assert _one(fresh_db, "SELECT count(*) FROM job_files") == 0
    assert tasks.run_recorded_job(owner, job.id) is None  # its queue entry run again: nothing happens
    # The same file once more, after it was imported: refused by the open-returns check, nothing doubled.
    third, created = imports.queue_returns_import(owner, "big.csv", data)
    assert created
    work_until_idle()
    refused = _job(owner, third.id)
    assert refused.state == "failed" and "already have an open return" in refused.error
    assert "line 2, order_id: order IMP-1 already has an open return" in refused.error  # which, line by line
    assert _imported(fresh_db) == 2500


def test_only_owners_and_admins_queue_imports(fresh_db):
    for slug in ("reviewer", "tester", "viewer"):
        with pytest.raises(NotAllowed):
            imports.queue_returns_import(actor_for("atlas", slug), "x.csv", _csv(1))
    assert _one(fresh_db, "SELECT count(*) FROM job_files") == 0


def test_a_refused_import_says_why_writes_nothing_and_its_retry_imports(fresh_db):
    admin = actor_for("atlas", "admin")
    _refuse_inserts(fresh_db, "return_requests", "NEW.order_id = 'IMP-900'")
    job, _ = imports.queue_returns_import(admin, "some.csv", _csv(1000))
    work_until_idle()
    failed = _job(admin, job.id)
    assert failed.state == "failed" and failed.error == imports.REFUSED
    assert _imported(fresh_db) == 0  # not even IMP-1..899
    assert _one(fresh_db, "SELECT count(*) FROM job_files") == 1  # kept for the retry
    _allow_inserts(fresh_db, "return_requests")
    retried, _ = enqueue.retry(admin, job.id)
    work_until_idle()
    assert _job(admin, retried.id).state == "succeeded"
    assert _imported(fresh_db) == 1000


def test_an_import_whose_worker_died_is_picked_up_and_imports_exactly_once(fresh_db):
    owner = actor_for("atlas", "owner")
    job, _ = imports.queue_returns_import(owner, "big.csv", _csv(300))
    _die_mid_job(fresh_db, owner, job.id)
    work_until_idle()
    done = _job(owner, job.id)
    assert done.state == "succeeded" and done.attempts == 2
    assert _imported(fresh_db) == 300
    assert _one(fresh_db, "SELECT count(*) FROM audit_log WHERE action = 'import'") == 1


def test_a_worker_process_killed_mid_import_leaves_nothing_and_the_next_worker_imports_once(fresh_db, tmp_path):
    owner = actor_for("atlas", "owner")
    job, _ = imports.queue_returns_import(owner, "big.csv", _csv(3000))
    log = open(tmp_path / "doomed.log", "w")
    with psycopg.connect(fresh_db) as blocker:
        # Hold the audit trail: the worker writes every return, then waits to write the import's audit row.
        blocker.execute("LOCK TABLE audit_log IN EXCLUSIVE MODE")
        worker = subprocess.Popen([sys.executable, "-m", "dokani", "worker", "--name", "doomed"], cwd=ROOT,
                                  env={**os.environ, "DATABASE_URL": fresh_db}, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while not _rows(fresh_db, "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND "
                            "wait_event_type = 'Lock' AND query LIKE %s", "INSERT INTO audit_log%"):
                assert time.monotonic() < deadline and worker.poll() is None, (tmp_path / "doomed.log").read_text()
                time.sleep(0.2)
            assert _rows(fresh_db, "SELECT state, attempts FROM background_jobs WHERE id = %s", job.id) == [
                ("running", 1)]
        finally:
            worker.kill()  # mid-job, 3,000 returns written but not committed
            worker.wait(10)
        blocker.rollback()
    assert _imported(fresh_db) == 0
    time.sleep(2)
    work_until_idle(stalled_after=1)
    assert _rows(fresh_db, "SELECT state, attempts FROM background_jobs WHERE id = %s", job.id) == [("succeeded", 2)]
    assert _imported(fresh_db) == 3000
    assert _one(fresh_db, "SELECT count(*) FROM audit_log WHERE action = 'import'") == 1


# --- calls import --------------------------------------------------------------------------------------------

def test_event_files_are_imported_by_a_worker_and_a_second_run_changes_nothing(fresh_db):
    from tests.calls_fixtures import EL_AUDIO, EL_TRANSCRIPTION, file

    admin = actor_for("atlas", "admin")
    uploads = [file(EL_TRANSCRIPTION), file(EL_AUDIO)]
    job, created = imports.queue_calls_import(admin, uploads)
    assert created and imports.queue_calls_import(admin, uploads)[0].id == job.id
    work_until_idle()
    done = _job(admin, job.id)
    assert done.state == "succeeded" and done.result["imported"] == 2 and done.progress_done == 2
    assert _one(fresh_db, "SELECT count(*) FROM call_events WHERE status = 'processed'") == 2
    assert _one(fresh_db, "SELECT count(*) FROM job_files") == 0
    again, _ = imports.queue_calls_import(admin, uploads)  # the same files later: the ledger keeps them once
    work_until_idle()
    assert _job(admin, again.id).result["duplicates"] == 2
    assert _one(fresh_db, "SELECT count(*) FROM call_events") == 2


# --- CSV export ----------------------------------------------------------------------------------------------

def test_an_export_job_writes_the_filtered_queue_in_chunks_and_it_downloads_as_the_direct_export(fresh_db):
    from dokani.returns.queue import export_csv

    reviewer = actor_for("atlas", "reviewer")
    f = ReturnQueueFilter(statuses=["pending_review", "escalated", "approved", "denied"])
    job, created = exports.queue_returns_export(reviewer, f)
    assert created and exports.queue_returns_export(reviewer, f)[0].id == job.id
    work_until_idle()
    done = _job(reviewer, job.id)
    with unit_of_work(reviewer) as uow:
        direct = export_csv(uow, f)
    rows = _one(fresh_db, "SELECT count(*) FROM return_requests WHERE business_id = %s AND status IN "
                "('pending_review', 'escalated', 'approved', 'denied') AND NOT is_test", ATLAS)
    assert done.state == "succeeded" and done.result["rows"] == rows and done.progress_total == rows
    stored = exports.export_file(reviewer, job.id)
    downloaded = b"".join(exports.export_chunks(reviewer, stored.id))
    assert stored.size_bytes == len(downloaded) and stored.file_name == "returns.csv"
    assert _without_age(downloaded.decode()) == _without_age(direct)  # the same rows and values, in order


def _without_age(text: str) -> list[list[str]]:
    """The CSV's rows without the age column (it counts hours up to the moment it is written)."""
    import csv
    import io

    table = list(csv.reader(io.StringIO(text)))
    age = table[0].index("Age (hours)")
    return [row[:age] + row[age + 1:] for row in table]


def test_an_export_larger_than_a_chunk_is_stored_in_several(fresh_db, monkeypatch):
    from dokani.jobs import files

    monkeypatch.setattr(files, "CHUNK_BYTES", 4096)
    reviewer = actor_for("atlas", "reviewer")
    job, _ = exports.queue_returns_export(reviewer, ReturnQueueFilter())
    work_until_idle()
    stored = exports.export_file(reviewer, job.id)
    chunks = _one(fresh_db, "SELECT count(*) FROM job_file_chunks WHERE file_id = %s", stored.id)
    assert chunks == -(-stored.size_bytes // 4096) and chunks > 1
    assert sum(len(c) for c in exports.export_chunks(reviewer, stored.id)) == stored.size_bytes
    newer, _ = exports.queue_returns_export(reviewer, ReturnQueueFilter())  # the same filter again, later
    work_until_idle()
    assert exports.export_file(reviewer, job.id) is None  # superseded: its file is dropped
    assert _one(fresh_db, "SELECT count(*) FROM job_files WHERE purpose = 'output'") == 1
    assert exports.export_file(reviewer, newer.id) is not None


def test_another_business_cannot_read_a_stored_file(fresh_db):
    owner = actor_for("atlas", "owner")
    job, _ = imports.queue_returns_import(owner, "mine.csv", _csv(3))
    file_id = job.params["file_ids"][0]
    with unit_of_work(actor_for("bloom")) as uow:
        from sqlalchemy import text

        assert uow.session.execute(text("SELECT count(*) FROM job_file_chunks WHERE file_id = :f"),
                                   {"f": file_id}).scalar() == 0


def test_a_viewer_cannot_store_a_file_nor_anyone_in_another_member_s_name(fresh_db):
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    from dokani.jobs import files

    with unit_of_work(actor_for("atlas", "viewer")) as uow, pytest.raises(DBAPIError, match="row-level security"):
        files.store(uow, "input", "x.csv", b"a,b\n")
    owner, admin = actor_for("atlas", "owner"), actor_for("atlas", "admin")
    with unit_of_work(admin) as uow, pytest.raises(DBAPIError, match="row-level security"):
        uow.session.execute(text("INSERT INTO job_files (business_id, purpose, file_name, created_by) "
                                 "VALUES (:b, 'input', 'x.csv', :u)"), {"b": ATLAS, "u": owner.user_id})
    assert _one(fresh_db, "SELECT count(*) FROM job_files") == 0
