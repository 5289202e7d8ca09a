"""The Calls page over imported calls: what a reviewer and an admin see and do."""
from __future__ import annotations

import copy
import json

import psycopg

from db.demo import business
from dokani.jobs.worker import work_until_idle
from tests.app.conftest import no_exceptions, open_page
from tests.calls_fixtures import EL_AUDIO, EL_TRANSCRIPTION, TAVUS, file, import_files, payload
from tests.conftest import actor_for

ATLAS = business("atlas").business_id


def _metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label.startswith(label))


def _open_imported_call(at, stamp="2026-11-30 08:00"):
    box = at.selectbox(key="calls_open")
    index = next(i for i, label in enumerate(box.options) if stamp in label)
    box.set_value(index).run()
    no_exceptions(at)
    return at


def _import_with_link(fresh_db):
    with psycopg.connect(fresh_db) as c:
        public_id, order_id = c.execute("SELECT public_id, order_id FROM return_requests WHERE business_id = %s "
                                        "ORDER BY created_at DESC LIMIT 1", (ATLAS,)).fetchone()
    doc = copy.deepcopy(payload(EL_TRANSCRIPTION))
    doc["data"]["conversation_initiation_client_data"]["dynamic_variables"]["order_id"] = order_id
    import_files(actor_for("atlas"), [file(EL_TRANSCRIPTION, doc), file(EL_AUDIO), *[file(n) for n in TAVUS]])
    return public_id


def test_an_imported_call_shows_recording_evaluation_data_and_its_return(fresh_db):
    public_id = _import_with_link(fresh_db)
    at = _open_imported_call(open_page("calls", slug="reviewer"))
    texts = [t.value for t in at.text]
    assert "[0:41] Great, thank you <b>so</b> much!" in texts or any("<b>so</b>" in t for t in texts)  # as typed
    assert any(t.startswith("policy_cited: failure — The agent did not say") for t in texts)
    assert any(str(public_id) in t for t in texts)
    assert any("order id given when the call started" in c.value for c in at.caption)
    assert at.get("audio"), "the recording is playable"
    frames = [df.value for df in at.dataframe]
    assert any("order_id" in list(f.get("field", [])) for f in frames if hasattr(f, "get"))


def test_evaluation_filter_and_outcome_figures_come_from_the_database(fresh_db):
    with psycopg.connect(fresh_db) as c:  # the demo's own verdicts aside: the imported call is the one evaluated
        c.execute("UPDATE call_analytics SET metrics = metrics - 'call_successful'")
    _import_with_link(fresh_db)
    at = open_page("calls")
    at.selectbox(key="calls_evaluation").select("successful").run()
    no_exceptions(at)
    assert _metric(at, "Calls") == "1"
    assert _metric(at, "Success (provider evaluation)") == "100%" or _metric(at, "Success").startswith("100")
    assert _metric(at, "Linked to a return") == "100%" or _metric(at, "Linked").startswith("100")
    assert any("412 credits over 1 call" in c.value for c in at.caption)
    assert _metric(at, "Criterion: issue") == _metric(at, "Success (provider evaluation)")  # ids escaped
    assert _metric(at, "Criterion: policy").startswith("0")


def test_a_reviewer_corrects_the_link(fresh_db):
    _import_with_link(fresh_db)
    with psycopg.connect(fresh_db) as c:
        other = c.execute("SELECT public_id FROM return_requests WHERE business_id = %s ORDER BY created_at "
                          "LIMIT 1", (ATLAS,)).fetchone()[0]
    at = _open_imported_call(open_page("calls", slug="reviewer"))
    at.text_input(key="call_link_return").input(str(other))
    at.text_input(key="call_link_note").input("customer meant the older order")
    next(b for b in at.button if b.label == "Correct the link").click().run()
    no_exceptions(at)
    with psycopg.connect(fresh_db) as c:
        method, rid = c.execute("SELECT l.method, r.public_id FROM call_return_links l JOIN return_requests r "
                                "ON r.id = l.return_request_id WHERE l.detail = 'customer meant the older order'").fetchone()
    assert (method, rid) == ("reviewer", other)


def test_admin_sets_a_secret_and_retries_a_failed_event(fresh_db):
    from dokani.calls import webhooks

    shutdown = copy.deepcopy(payload(TAVUS[-1]))
    shutdown["properties"].pop("replica_id")
    assert webhooks.receive("tavus", ATLAS, json.dumps(shutdown).encode()).status_code == 202
    at = open_page("calls", slug="admin")
    assert any("waiting for a worker" in t.value for t in at.text)  # stored and queued
    work_until_idle()  # the worker cannot place it yet: failed, with why
    import_files(actor_for("atlas"), [file(TAVUS[0])])
    at.run()
    no_exceptions(at)
    assert any("c7f3a9e21b04" in t.value and "no earlier event" in t.value for t in at.text)
    next(b for b in at.button if b.label == "Retry").click().run()
    no_exceptions(at)
    assert any("processed" in s.value for s in at.success)
    assert any("None: every event received was processed." in c.value for c in at.caption)
    at.selectbox(key="calls_secret_provider").select("tavus")  # a form: the value goes with the submit
    next(b for b in at.button if b.label == "Set / rotate").click().run()
    no_exceptions(at)
    assert any("/webhooks/tavus/" in c.value for c in at.code)
    with psycopg.connect(fresh_db) as c:
        assert c.execute("SELECT count(*) FROM call_webhook_secrets WHERE provider = 'tavus'").fetchone()[0] == 1


def test_viewers_see_no_webhook_settings(seeded_db):
    at = open_page("calls", slug="viewer")
    no_exceptions(at)
    assert any("for owners and admins" in c.value for c in at.caption)
    assert not [b for b in at.button if b.label == "Set / rotate"]


def test_the_review_panel_lists_the_calls_about_the_return(fresh_db):
    public_id = _import_with_link(fresh_db)
    at = open_page("returns", query={"return": str(public_id)})
    no_exceptions(at)
    frames = [df.value for df in at.dataframe]
    calls = next(f for f in frames if "linked by" in getattr(f, "columns", []))
    assert list(calls["linked by"]) == ["order id given when the call started"]
    assert list(calls["call"]) == ["voice · elevenlabs"]


def test_an_admin_uploads_event_files_and_a_bad_one_imports_nothing(fresh_db):
    from tests.calls_fixtures import FIXTURES

    def calls_count():
        with psycopg.connect(fresh_db) as c:
            return c.execute("SELECT count(*) FROM call_events").fetchone()[0]

    at = open_page("calls", slug="admin")
    good = [(n, (FIXTURES / n).read_bytes(), "application/json") for n in (EL_TRANSCRIPTION, EL_AUDIO)]
    at.file_uploader(key="calls_upload").set_value([*good, ("broken.json", b'{"type": "post_call_audio"}',
                                                           "application/json")])
    at.run()
    next(b for b in at.button if b.label == "Import").click().run()
    no_exceptions(at)
    assert any("broken.json" in e.value.replace("\\", "") for e in at.error)  # escaped markdown
    assert calls_count() == 0
    at.file_uploader(key="calls_upload").set_value(good)
    at.run()
    next(b for b in at.button if b.label == "Import").click().run()
    no_exceptions(at)
    assert any("waiting for a worker" in i.value for i in at.info) and calls_count() == 0  # queued
    work_until_idle()
    at.run()
    no_exceptions(at)
    assert any("2 event(s) imported" in s.value.replace("\\", "") for s in at.success)
    assert calls_count() == 2
