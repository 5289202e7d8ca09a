"""The webhook receiver over HTTP (Starlette's TestClient on the console's own app)."""
from __future__ import annotations

import copy
import json
import time
import warnings

import pytest
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError

from db.demo import business
from db.engine import owner_engine
from db.uow import unit_of_work
from dokani.calls import webhooks, webhooks_http
from dokani.calls.webhook_secrets import set_secret
from dokani.errors import Invalid
from dokani.jobs import queue, tasks
from dokani.jobs.worker import work_until_idle
from tests.calls_fixtures import EL_CONVERSATION, EL_TRANSCRIPTION, TAVUS, file, import_files, payload

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

SECRET = "wsec_test_0123456789abcdef"


@pytest.fixture(scope="module")
def console():
    """The console's real ASGI app (one per process: Streamlit's runtime is a singleton)."""
    from dokani.server import create_app

    with TestClient(create_app()) as c:
        yield c


@pytest.fixture
def client(fresh_db, console):
    yield console
    queue.close_all()


@pytest.fixture
def secrets(fresh_db, atlas_owner):
    with unit_of_work(atlas_owner) as uow:
        set_secret(uow, "elevenlabs", SECRET)
        tavus = set_secret(uow, "tavus")
        uow.commit()
    return tavus.path


def queued_events() -> int:
    with owner_engine().connect() as conn:
        return conn.execute(text("SELECT count(*) FROM procrastinate.procrastinate_jobs WHERE task_name = "
                                 "'dokani:apply_webhook_event'")).scalar()


def rows(table: str, where: str = "true") -> int:
    with owner_engine().connect() as conn:
        return conn.execute(text(f"SELECT count(*) FROM {table} WHERE {where}")).scalar()


def post_el(client, body: bytes, header: str | None):
    headers = {"content-type": "application/json"} | ({"ElevenLabs-Signature": header} if header else {})
    return client.post("/webhooks/elevenlabs", content=body, headers=headers)


BODY = json.dumps(payload(EL_TRANSCRIPTION)).encode()


def test_a_signed_event_is_stored_answered_at_once_and_processed_once_by_a_worker(client, secrets):
    r = post_el(client, BODY, webhooks.sign(SECRET, BODY))
    assert r.status_code == 202 and r.json()["status"] == "stored; queued for processing"
    assert rows("call_events", "status = 'received'") == 1  # stored, not yet applied
    assert rows("call_sessions", f"elevenlabs_conversation_id = '{EL_CONVERSATION}'") == 0
    resent = post_el(client, BODY, webhooks.sign(SECRET, BODY))  # the provider sends it again meanwhile
    assert resent.status_code == 202 and rows("call_events") == 1
    assert queued_events() == 1
    work_until_idle()
    assert rows("call_sessions", f"elevenlabs_conversation_id = '{EL_CONVERSATION}'") == 1
    assert rows("call_events", "status = 'processed' AND source = 'webhook'") == 1
    transcripts = rows("call_transcripts")
    again = post_el(client, BODY, webhooks.sign(SECRET, BODY))
    assert again.status_code == 200 and again.json()["status"] == "already received"
    assert rows("call_events") == 1 and rows("call_transcripts") == transcripts


def test_several_v0_signatures_one_of_them_right(client, secrets):
    good = webhooks.sign(SECRET, BODY)
    t = good.split(",")[0]
    header = f"{t},v0={'0' * 64},{good.split(',')[1]}"
    assert post_el(client, BODY, header).status_code == 202


@pytest.mark.parametrize("header", [
    None,  # missing
    "v0=abc",  # malformed
    webhooks.sign("wsec_some_other_secret_xx", BODY),  # wrong secret
    webhooks.sign(SECRET, BODY, t=int(time.time()) - 31 * 60),  # stale
    webhooks.sign(SECRET, BODY + b" "),  # signed another body
])
def test_bad_signatures_are_refused_and_write_nothing(client, secrets, header):
    before = (rows("call_events"), rows("call_sessions"))
    r = post_el(client, BODY, header)
    assert r.status_code == 401
    assert (rows("call_events"), rows("call_sessions")) == before


def test_no_secret_set_means_401(client):
    assert post_el(client, BODY, webhooks.sign(SECRET, BODY)).status_code == 401
    assert rows("call_events") == 0


def test_tavus_token(client, secrets):
    body = json.dumps(payload(TAVUS[0])).encode()
    assert client.post("/webhooks/tavus/not-the-token", content=body).status_code == 401
    assert rows("call_events") == 0
    r = client.post(secrets, content=body)
    assert r.status_code == 202
    work_until_idle()
    assert rows("call_sessions", "tavus_conversation_id = 'c7f3a9e21b04' AND status = 'in_progress'") == 1


def test_too_large_a_body_is_refused(client, secrets, monkeypatch):
    monkeypatch.setitem(webhooks_http.MAX_BODY, "tavus", 100)
    assert client.post(secrets, content=b"x" * 500).status_code == 413
    assert rows("call_events") == 0


def test_a_failed_event_is_kept_listed_and_retried(client, secrets, atlas_owner):
    shutdown = copy.deepcopy(payload(TAVUS[-1]))
    shutdown["properties"].pop("replica_id")  # no replica and no earlier event: cannot be placed yet
    r = client.post(secrets, content=json.dumps(shutdown).encode())
    assert r.status_code == 202
    work_until_idle()
    with unit_of_work(atlas_owner) as uow:
        failed = webhooks.failed_events(uow)
    assert [f.event_type for f in failed] == ["system.shutdown"] and "c7f3a9e21b04" in failed[0].error
    assert rows("call_sessions", "tavus_conversation_id = 'c7f3a9e21b04'") == 0
    with unit_of_work(atlas_owner) as uow, pytest.raises(Invalid):
        webhooks.retry_event(uow, failed[0].id)
    with unit_of_work(atlas_owner) as uow:
        assert webhooks.failed_events(uow)[0].attempts == 2
    import_files(atlas_owner, [file(TAVUS[0])])  # the joined event arrives (here: uploaded)
    with unit_of_work(atlas_owner) as uow:
        webhooks.retry_event(uow, failed[0].id)
    with unit_of_work(atlas_owner) as uow:
        assert webhooks.failed_events(uow) == []
    assert rows("call_sessions", "tavus_conversation_id = 'c7f3a9e21b04' AND status = 'completed'") == 1


def test_an_authenticated_but_malformed_event_is_kept_failed(client, secrets):
    r = client.post(secrets, content=b'{"conversation_id": "c1", "event_type": "system.shutdown"}')
    assert r.status_code == 422
    assert rows("call_events", "status = 'failed'") == 1 and rows("call_sessions", "tavus_conversation_id = 'c1'") == 0


def test_the_webhook_role_sees_one_business_and_no_secrets(fresh_db, secrets):
    atlas, bloom = business("atlas").business_id, business("bloom").business_id
    with webhooks.webhook_session(atlas) as s:
        assert s.execute(text("SELECT count(DISTINCT business_id) FROM provider_configs")).scalar() == 1
        assert s.execute(text("SELECT count(*) FROM provider_configs WHERE business_id = :b"), {"b": bloom}).scalar() == 0
        assert s.execute(text("SELECT count(*) FROM call_sessions")).scalar() > 0
    with webhooks.webhook_session(atlas) as s, pytest.raises(ProgrammingError):
        s.execute(text("SELECT * FROM call_webhook_secrets")).all()
    with webhooks.webhook_session(atlas) as s, pytest.raises(ProgrammingError):
        s.execute(text("SELECT * FROM business_members")).all()
    with webhooks.webhook_session(None) as s:
        assert s.execute(text("SELECT count(*) FROM call_sessions")).scalar() == 0


def test_only_owners_and_admins_see_webhook_secrets(fresh_db, secrets):
    from tests.conftest import actor_for

    def visible(slug):
        with unit_of_work(actor_for("atlas", slug)) as uow:
            return uow.session.execute(text("SELECT count(*) FROM call_webhook_secrets")).scalar()

    assert visible("owner") == 2 and visible("admin") == 2
    assert visible("reviewer") == 0 and visible("viewer") == 0
    with unit_of_work(actor_for("bloom")) as uow:
        assert uow.session.execute(text("SELECT count(*) FROM call_webhook_secrets")).scalar() == 0


def test_a_reviewer_cannot_write_the_event_ledger(fresh_db):
    from tests.conftest import actor_for

    with unit_of_work(actor_for("atlas", "reviewer")) as uow, pytest.raises(ProgrammingError):
        uow.session.execute(text("INSERT INTO call_events (business_id, provider, event_type, event_key, source, payload) "
                                 "VALUES (:b, 'tavus', 'x', 'k', 'file', '{}')"), {"b": business("atlas").business_id})


def test_a_signed_event_is_answered_within_a_second(client, secrets):
    post_el(client, BODY, webhooks.sign("wsec_warm_up_the_pool_xx", BODY))  # 401, opens the pool's connection
    started = time.perf_counter()
    r = post_el(client, BODY, webhooks.sign(SECRET, BODY))
    assert r.status_code == 202 and time.perf_counter() - started < 1.0


def test_webhook_paths_are_not_sent_to_sign_in(fresh_db):
    from dokani.server import SignInFirst

    assert not SignInFirst._is_page({"path": "/webhooks/tavus/abc"})
    assert not SignInFirst._is_page({"path": "/webhooks/elevenlabs"})
    assert SignInFirst._is_page({"path": "/calls"})


def test_an_event_whose_worker_died_mid_way_is_applied_once_by_the_next(client, secrets, fresh_db):
    import psycopg

    assert post_el(client, BODY, webhooks.sign(SECRET, BODY)).status_code == 202
    with psycopg.connect(fresh_db, autocommit=True) as c:  # a worker fetched it, then was killed: no heartbeat
        c.execute("SET search_path = procrastinate, public")
        dead = c.execute("SELECT procrastinate_register_worker_v1()").fetchone()[0]
        c.execute("UPDATE procrastinate_workers SET last_heartbeat = now() - interval '1 minute' WHERE id = %s",
                  (dead,))
        assert c.execute("SELECT id FROM procrastinate_fetch_job_v2(NULL, %s)", (dead,)).fetchone()
    work_until_idle()
    assert rows("call_events", "status = 'processed'") == 1
    assert rows("call_sessions", f"elevenlabs_conversation_id = '{EL_CONVERSATION}'") == 1
    transcripts = rows("call_transcripts")
    event_id = int(owner_engine().connect().execute(text("SELECT id FROM call_events")).scalar())
    # Its queue entry run once more (a worker killed after committing): the event is applied once.
    assert tasks.apply_webhook_event(str(business("atlas").business_id), event_id) == "processed"
    assert rows("call_transcripts") == transcripts and rows("call_sessions",
                                                            f"elevenlabs_conversation_id = '{EL_CONVERSATION}'") == 1


def test_an_event_that_cannot_be_queued_is_kept_failed_and_retryable(client, secrets, atlas_owner, monkeypatch):
    # The queue's connection points at a port where no server listens (a real refusal, not a mock).
    monkeypatch.setenv("DOKANI_WORKER_DATABASE_URL", "postgresql://dokani_app@127.0.0.1:9/none?connect_timeout=1")
    r = post_el(client, BODY, webhooks.sign(SECRET, BODY))
    assert r.status_code == 202 and "can be retried" in r.json()["status"]
    with unit_of_work(atlas_owner) as uow:
        failed = webhooks.failed_events(uow)
    assert len(failed) == 1 and "could not be queued" in failed[0].error
    with unit_of_work(atlas_owner) as uow:
        webhooks.retry_event(uow, failed[0].id)
    assert rows("call_sessions", f"elevenlabs_conversation_id = '{EL_CONVERSATION}'") == 1
