"""The import page: a bad file lists its problems and writes nothing; a good one is imported by a background
worker, with progress."""
from __future__ import annotations

import psycopg

from dokani.jobs.worker import work_until_idle
from tests.app.conftest import no_exceptions, open_page


def _imported(url: str) -> int:
    with psycopg.connect(url) as c:
        return c.execute("SELECT count(*) FROM return_requests WHERE order_id LIKE 'UP-%'").fetchone()[0]


def test_bad_file_shows_each_problem_and_nothing_is_written(fresh_db):
    at = open_page("import", slug="admin")
    at.file_uploader[0].set_value(("bad.csv", b"order_id,customer_email,reason_for_return\nUP-1,nope,broken\n", "text/csv"))
    at.run()
    no_exceptions(at)
    assert any("cannot be imported" in e.value for e in at.error)
    problems = at.dataframe[0].value[["line", "column", "problem"]].values.tolist()
    assert problems == [[2, "customer_email", "not an email address: 'nope'"]]
    assert not [b for b in at.button if b.label == "Import"]
    assert _imported(fresh_db) == 0


def test_good_file_is_imported_by_a_worker_for_an_admin_with_its_progress(fresh_db):
    at = open_page("import", slug="admin")
    at.file_uploader[0].set_value(("good.csv", b"order_id,customer_email,reason_for_return\nUP-1,a@example.com,broken\n"
                                   b"UP-2,b@example.com,torn\n", "text/csv"))
    at.run()
    next(b for b in at.button if b.label == "Import").click().run()
    no_exceptions(at)
    assert any("waiting for a worker" in i.value for i in at.info)  # queued, not written in the page request
    assert _imported(fresh_db) == 0
    at.run()
    assert not any(b.label == "Import" for b in at.button)  # while it is queued the page shows the job, no preview
    with psycopg.connect(fresh_db, autocommit=True) as c:  # a worker is half-way
        c.execute("UPDATE background_jobs SET state = 'running', attempts = 1, progress_done = 1, progress_total = 2")
    at.run()
    assert "1 of 2 returns written" in at.get("progress")[0].proto.text
    with psycopg.connect(fresh_db, autocommit=True) as c:
        c.execute("UPDATE background_jobs SET state = 'queued'")
    work_until_idle()
    at.run()
    no_exceptions(at)
    assert any("Imported 2 returns from good.csv" in s.value.replace("\\", "") for s in at.success)
    assert _imported(fresh_db) == 2
    with psycopg.connect(fresh_db) as c:
        assert c.execute("SELECT count(*) FROM background_jobs").fetchone()[0] == 1


def test_reviewer_sees_the_import_button_disabled(fresh_db):
    at = open_page("import", slug="reviewer")
    at.file_uploader[0].set_value(("good.csv", b"order_id,customer_email,reason_for_return\nUP-1,a@example.com,broken\n", "text/csv"))
    at.run()
    assert next(b for b in at.button if b.label == "Import").disabled
    assert any("owners and admins can import" in i.value for i in at.info)
