"""The queue's CSV export, streamed by the console's own route: every matching row, in chunks, only to members."""
from __future__ import annotations

import csv
import io

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from db.demo import DEMO_PASSWORD, business, user
from db.uow import unit_of_work
from dokani.accounts.sessions import COOKIE
from dokani.accounts.sign_in import sign_in
from dokani.returns import queue
from dokani.returns.export_http import export_link, export_routes
from dokani.returns.filters import ReturnQueueFilter
from tests.conftest import actor_for


@pytest.fixture
def client(seeded_db):
    return TestClient(Starlette(routes=export_routes()))


def _signed_in(client, slug="reviewer", key="atlas"):
    client.cookies.set(COOKIE, sign_in(user(key, slug).email, DEMO_PASSWORD).token)
    return client


def test_a_member_downloads_every_matching_row(client):
    everything = ReturnQueueFilter(statuses=[])
    with unit_of_work(actor_for("atlas", "reviewer")) as uow:
        total = queue.queue_page(uow, everything, page_size=1).total
    answer = _signed_in(client).get(export_link(business("atlas").business_id, everything))
    assert answer.status_code == 200
    assert answer.headers["content-disposition"].startswith("attachment")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert len(rows) == total > 0
    assert {r["Return id"] for r in rows} and rows[0]["Status"]


def test_the_export_is_read_in_chunks_not_all_at_once(seeded_db):
    with unit_of_work(actor_for("atlas", "reviewer")) as uow:
        chunks = list(queue.iter_csv(uow, ReturnQueueFilter(statuses=[]), batch=10))
    body = [c for c in chunks if c]
    assert len(body) > 3  # header + 10 rows per chunk
    assert max(len(list(csv.reader(io.StringIO(c)))) for c in body) <= 11


def test_without_a_session_or_for_another_business_nothing_is_exported(client):
    link = export_link(business("atlas").business_id, ReturnQueueFilter())
    assert client.get(link).status_code == 401
    other = _signed_in(client, "owner", "bloom")
    refused = other.get(link)
    assert refused.status_code == 403 and "not a member" in refused.text


def test_a_tampered_filter_is_refused_with_a_message(client):
    answer = _signed_in(client).get(f"/exports/returns.csv?business={business('atlas').business_id}&filter=%%%")
    assert answer.status_code == 400 and "not valid" in answer.text


# --- an export prepared by a background job (dokani.jobs.exports), downloaded from /exports/jobs/<id>.csv ------

@pytest.fixture
def job_client(fresh_db):
    from dokani.jobs import queue as job_queue

    yield TestClient(Starlette(routes=export_routes()))
    job_queue.close_all()


def test_an_export_job_s_file_is_streamed_back_to_members_only(job_client):
    from dokani.jobs import exports
    from dokani.jobs.worker import work_until_idle
    from dokani.returns.export_http import job_export_link

    reviewer = actor_for("atlas", "reviewer")
    everything = ReturnQueueFilter(statuses=[])
    job, _ = exports.queue_returns_export(reviewer, everything)
    atlas = business("atlas").business_id
    link = job_export_link(atlas, job.id)
    assert _signed_in(job_client).get(link).status_code == 404  # not done yet: says so
    work_until_idle()
    with unit_of_work(reviewer) as uow:
        total = queue.queue_page(uow, everything, page_size=1).total
    job_client.cookies.clear()
    assert job_client.get(link).status_code == 401
    refused = _signed_in(job_client, "owner", "bloom").get(link)
    assert refused.status_code == 403
    job_client.cookies.clear()
    answer = _signed_in(job_client, "viewer").get(link)  # any member of the business may download it
    assert answer.status_code == 200 and answer.headers["content-disposition"] == 'attachment; filename="returns.csv"'
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert len(rows) == total > 0
    assert _signed_in(job_client).get(f"/exports/jobs/{job.id + 99}.csv?business={atlas}").status_code == 404
