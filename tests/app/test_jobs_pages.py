"""Background work seen from the pages: the Returns page's export prepared by a worker and offered for download
(streamed back by ``/exports/jobs/<id>.csv``; tests/integration/test_returns_export.py downloads it)."""
from __future__ import annotations

import psycopg

from db.demo import business
from dokani.jobs import queue
from dokani.jobs.worker import work_until_idle
from tests.app.conftest import no_exceptions, open_page

ATLAS = business("atlas").business_id


def _count(url, sql, *params):
    with psycopg.connect(url) as c:
        return c.execute(sql, params).fetchone()[0]


def test_the_queue_export_is_prepared_by_a_worker_and_then_offers_every_matching_row_for_download(fresh_db):
    at = open_page("returns", slug="reviewer")
    no_exceptions(at)
    assert not any(b.label.startswith("Download the CSV") for b in at.download_button)
    at.button(key="queue_export_job").click().run()
    no_exceptions(at)
    assert any("waiting for a worker" in i.value for i in at.info)
    at.button(key="queue_export_job").click().run()  # asked again while it waits: the same job
    assert any("already being prepared" in i.value for i in at.info)
    assert _count(fresh_db, "SELECT count(*) FROM background_jobs WHERE kind = 'returns_export'") == 1
    work_until_idle()
    queue.close_all()
    at.run()
    no_exceptions(at)
    matching = _count(fresh_db, "SELECT count(*) FROM return_requests WHERE business_id = %s AND NOT is_test AND "
                      "status IN ('pending_review', 'escalated')", ATLAS)  # the queue's default filter
    assert any(f"Export ready: {matching:,} row(s)" in s.value for s in at.success)
    links = {b.proto.label: b.proto.url for b in at.get("link_button")}
    download = next(label for label in links if label.startswith("Download the CSV"))
    assert f"{matching:,} row(s)" in download
    job_id = _count(fresh_db, "SELECT id FROM background_jobs WHERE kind = 'returns_export'")
    assert links[download] == f"/exports/jobs/{job_id}.csv?business={ATLAS}"  # streamed from the stored chunks
    stored = _count(fresh_db, "SELECT size_bytes FROM job_files WHERE purpose = 'output'")
    assert stored > 0


def test_a_viewer_queues_no_background_export_and_keeps_the_direct_one(seeded_db):
    at = open_page("returns", slug="viewer")
    no_exceptions(at)
    assert not any(b.key == "queue_export_job" for b in at.button)  # viewers queue no background work
    assert any(b.proto.label.startswith("Export CSV") for b in at.get("link_button"))
