"""Issue 12 on the pages: hostile text in every search, upload, policy JSON and chat box is accepted or refused
with a message; no page shows an exception box, and a refusal leaves the rows as they were."""
from __future__ import annotations

import psycopg
from hypothesis import given, settings
from hypothesis import strategies as st

from db.demo import business
from dokani.jobs.worker import work_until_idle
from tests.app.conftest import no_exceptions, open_page
from tests.app.test_policies_page import _pick
from tests.hostile import HOSTILE

ATLAS = business("atlas").business_id
FEW = settings(max_examples=8)
SEARCHES = st.sampled_from([h for h in HOSTILE if len(h) < 200 and "\ud800" not in h])  # browsers send UTF-8
TABLES = ("return_requests", "policies", "chat_messages", "audit_log")


def _counts(url: str) -> dict[str, int]:
    with psycopg.connect(url) as c:
        return {t: c.execute(f"SELECT count(*) FROM public.{t}").fetchone()[0] for t in TABLES}


def test_hostile_searches_on_the_returns_and_risk_pages(seeded_db):
    returns, risk = open_page("returns", slug="reviewer"), open_page("risk", slug="reviewer")

    @FEW
    @given(SEARCHES)
    def search(term):
        returns.text_input(key="queue_search").set_value(term).run()
        no_exceptions(returns)
        risk.text_input(key="risk_search").set_value(term).run()
        no_exceptions(risk)

    search()


def test_hostile_import_files_list_every_problem_offer_them_as_csv_and_write_nothing(fresh_db):
    with psycopg.connect(fresh_db) as c:
        open_order = c.execute("SELECT order_id FROM return_requests WHERE business_id = %s AND status = 'pending_review' "
                               "AND NOT is_test LIMIT 1", (ATLAS,)).fetchone()[0]
    before = _counts(fresh_db)
    at = open_page("import", slug="admin")
    files = {
        "values.csv": b"order_id,customer_email,reason_for_return,order_value,created_at\n"
                      b"UP-1,a@example.com,broken,nan,0001-01-01T00:00:00+05:00\nUP-2,a@example.com,x\x00y,1e400,9999-12-31\n",
        "twice.csv": b"order_id,customer_email,reason_for_return\nUP-1,a@example.com,broken\nUP-1,b@example.com,again\n",
        "open.csv": f"order_id,customer_email,reason_for_return\nUP-3,a@example.com,ok\n{open_order},b@example.com,x\n".encode(),
        "garbage.csv": bytes(range(256)) * 4,
    }
    for name, data in files.items():
        at.file_uploader[0].set_value((name, data, "text/csv"))
        at.run()
        no_exceptions(at)
        assert any("cannot be imported" in e.value for e in at.error), name
        assert not any("ready" in s.value for s in at.success), name  # never "ready" for what the import refuses
        assert not [b for b in at.button if b.label == "Import"], name
        if name != "garbage.csv":
            assert any(b.label == "Download the problems (CSV)" for b in at.get("download_button")), name
    at.file_uploader[0].set_value(("values.csv", files["values.csv"], "text/csv"))
    at.run()
    table = at.dataframe[0].value
    assert set(zip(table["line"], table["column"])) >= {(2, "order_value"), (2, "created_at"), (3, "reason_for_return"),
                                                         (3, "order_value"), (3, "created_at")}
    assert _counts(fresh_db) == before


def test_a_failed_import_leaves_no_progress_bar_and_nothing_written(fresh_db):
    with psycopg.connect(fresh_db) as c:  # a real failure while writing (a trigger, not a mock)
        c.execute("""
            CREATE FUNCTION public.refuse_up7() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN IF NEW.order_id = 'UP-8' THEN RAISE EXCEPTION 'disk full (simulated)'; END IF; RETURN NEW; END $$;
            CREATE TRIGGER refuse_up7 BEFORE INSERT ON public.return_requests
              FOR EACH ROW EXECUTE FUNCTION public.refuse_up7();
        """)
    before = _counts(fresh_db)
    at = open_page("import", slug="admin")
    at.file_uploader[0].set_value(("good.csv", b"order_id,customer_email,reason_for_return\nUP-7,a@example.com,x\n"
                                   b"UP-8,b@example.com,y\n", "text/csv"))
    at.run()
    next(b for b in at.button if b.label == "Import").click().run()
    no_exceptions(at)
    work_until_idle()  # the worker's insert of UP-8 fails
    at.run()
    no_exceptions(at)
    assert any("database refused" in e.value and "nothing was imported" in e.value for e in at.error)
    assert not at.get("progress")  # no half-filled bar left behind
    assert _counts(fresh_db) == before  # not even UP-7
    assert any(b.label == "Retry" for b in at.button)


def test_an_order_opened_after_the_preview_is_refused_not_called_ready(fresh_db):
    at = open_page("import", slug="admin")
    at.file_uploader[0].set_value(("good.csv", b"order_id,customer_email,reason_for_return\nUP-9,a@example.com,x\n",
                                   "text/csv"))
    at.run()
    assert any("ready" in s.value for s in at.success)
    with psycopg.connect(fresh_db) as c:  # someone opens a return for that order between preview and import
        c.execute("INSERT INTO return_requests (business_id, order_id, customer_email, reason_for_return, status) "
                  "VALUES (%s, 'UP-9', 'z@example.com', 'x', 'pending_triage')", (ATLAS,))
    before = _counts(fresh_db)
    next(b for b in at.button if b.label == "Import").click().run()
    no_exceptions(at)
    assert not any("ready" in s.value for s in at.success)
    assert list(at.dataframe[0].value["problem"]) == ["order UP-9 already has an open return"]
    assert not at.get("progress")
    assert _counts(fresh_db) == before


def test_hostile_policy_json_is_refused_with_a_message(fresh_db):
    at = open_page("policies", slug="admin")
    draft_id, name, lock = psycopg.connect(fresh_db).execute(
        "SELECT id, version, lock_version FROM policies WHERE business_id = %s AND state = 'draft' ORDER BY id LIMIT 1",
        (ATLAS,)).fetchone()
    at = _pick(at, name)
    key = f"pe_{draft_id}_{lock}"
    at.segmented_control(key=f"{key}_mode").set_value("JSON").run()
    before = _counts(fresh_db)
    for text in ('{"auto_approve_threshold": Infinity}', '{"auto_escalation_threshold": 1e999}',
                 '{"return_window_days": ' + "9" * 5000 + "}", '{"x_note": "a\\u0000b"}', "[" * 3000,
                 '{"a":' * 2000 + "1" + "}" * 2000):
        at.text_area(key=f"{key}_json").set_value(text).run()
        at.button(key=f"{key}_save").click().run()
        no_exceptions(at)
        assert at.error, text[:40]
        assert not any("database refused" in e.value for e in at.error), text[:40]
    assert _counts(fresh_db) == before


def test_hostile_chat_messages_are_refused_or_answered(fresh_db):
    at = open_page("chat", slug="tester")
    at.selectbox(key="chat_pick").set_value("__new__").run()
    at.text_input(key="chat_new_name").input("hostile")
    at.text_input(key="chat_new_email").input("alex@example.com")
    at.button(key="FormSubmitter:chat_lab_new_session-Create session").click().run()
    no_exceptions(at)
    box = next(k for k in (getattr(e, "key", None) for e in at.get("chat_input")) if k)
    for text in ("a\x00b", "\u202eevil", ":red[x] :material/home: $x$ <b>y</b>", "{name}" * 50):
        at.chat_input(key=box).set_value(text).run()
        no_exceptions(at)
        assert not any("database refused" in e.value for e in at.error)


def test_dates_at_the_edges_in_stored_data_are_shown_not_crashed_on(fresh_db):
    import json

    with psycopg.connect(fresh_db) as c:
        rid, pid = c.execute("SELECT id, public_id::text FROM return_requests WHERE business_id = %s AND "
                             "status = 'pending_review' AND NOT is_test ORDER BY id LIMIT 1", (ATLAS,)).fetchone()
        c.execute("UPDATE return_requests SET conversation_log = %s WHERE id = %s", (json.dumps([
            {"speaker": "customer", "text": "early", "timestamp": "0001-01-01T00:00:00+05:00"},
            {"speaker": "customer", "text": "late", "timestamp": "9999-12-31T23:59:59-05:00"}]), rid))
    at = open_page("returns", slug="reviewer", query={"return": pid})
    no_exceptions(at)
    assert any("0001-01-01T00:00:00+05:00" in t.value for t in at.text)  # shown as written
