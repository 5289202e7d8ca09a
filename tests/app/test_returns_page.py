"""The returns page driven with AppTest: queue, filters, paging, KPIs, triage, review panel, decisions, conflicts."""
from __future__ import annotations

import psycopg

from db.demo import business, user
from db.uow import unit_of_work
from dokani.returns.decisions import decide_return
from dokani.returns.review import return_detail
from dokani.jobs.worker import work_until_idle
from tests.app.conftest import no_exceptions, open_page
from tests.conftest import actor_for

ATLAS = business("atlas").business_id


def _rows(url: str, sql: str, *params):
    with psycopg.connect(url) as conn:
        return conn.execute(sql, params).fetchall()


def _metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _button(at, label: str):
    return next(b for b in at.button if b.label == label)


def _texts(at) -> list[str]:
    return [t.value for t in at.text]


def _markdown(at) -> str:
    return "\n".join(str(m.value) for m in list(at.markdown) + list(at.caption) + list(at.success) + list(at.warning)
                     + list(at.error) + list(at.info))


def test_queue_shows_kpis_from_the_database_and_the_first_page(seeded_db):
    at = open_page("returns")
    no_exceptions(at)
    (waiting, value, overdue), = _rows(
        seeded_db, "SELECT count(*), sum(order_value), count(*) FILTER (WHERE created_at < timezone('utc', now()) - "
                   "interval '48 hours') FROM return_requests WHERE business_id = %s AND status IN "
                   "('pending_review', 'escalated')", ATLAS)
    m = _metrics(at)
    assert m["Waiting for a decision"] == f"{waiting:,}"
    assert m["Overdue (> 48 h)"] == f"{overdue:,}"
    assert m["Value at stake"] == f"${float(value):,.2f}"  # money with its currency, as on the overview
    assert f"of {waiting:,} matching" in _markdown(at)
    shown = at.dataframe[0].value
    assert len(shown) == min(50, waiting)
    assert set(shown["status"]) <= {"Needs review", "Escalated"}


def test_search_and_paging_are_server_side(seeded_db):
    at = open_page("returns")
    at.selectbox(key="queue_page_size").set_value(25).run()
    total = int(_metrics(at)["Waiting for a decision"])
    assert f"returns 1–25 of {total} matching" in _markdown(at)
    first_page = list(at.dataframe[0].value["public_id"])
    _button(at, "Next →").click().run()
    assert f"Page 2 · returns 26–{min(50, total)} of {total} matching" in _markdown(at)
    assert not set(at.dataframe[0].value["public_id"]) & set(first_page)
    _button(at, "← Previous").click().run()
    assert list(at.dataframe[0].value["public_id"]) == first_page

    (order_id, pid), = _rows(seeded_db, "SELECT order_id, public_id::text FROM return_requests WHERE business_id = %s "
                                        "AND status = 'pending_review' ORDER BY id LIMIT 1", ATLAS)
    at.text_input(key="queue_search").input(order_id).run()
    found = at.dataframe[0].value
    assert pid in set(found["public_id"]) and all(order_id in o for o in found["order_id"])


def test_status_filter_and_sort(seeded_db):
    at = open_page("returns")
    at.multiselect(key="queue_statuses").set_value(["approved"]).run()
    at.selectbox(key="queue_sort").set_value("Highest value").run()
    shown = at.dataframe[0].value
    (approved,), = _rows(seeded_db, "SELECT count(*) FROM return_requests WHERE business_id = %s AND status = 'approved'", ATLAS)
    assert set(shown["status"]) == {"Approved"} and f"of {approved} matching" in _markdown(at)
    values = list(shown["order_value"])
    assert values == sorted(values, reverse=True)


def test_triage_button_triages_every_new_return(fresh_db):
    (new,), = _rows(fresh_db, "SELECT count(*) FROM return_requests WHERE business_id = %s AND status = 'pending_triage'", ATLAS)
    at = open_page("returns")
    _button(at, f"Triage {new:,} new return{'' if new == 1 else 's'} now").click().run()
    no_exceptions(at)
    # queued for a worker, not run in the page request
    assert any("waiting for a worker" in i.value for i in at.info)
    assert _rows(fresh_db, "SELECT count(*) FROM return_requests WHERE business_id = %s AND status = 'pending_triage'",
                 ATLAS)[0][0] == new
    work_until_idle()
    at.run()
    no_exceptions(at)
    assert f"Triaged {new} of {new}" in _markdown(at)
    assert _rows(fresh_db, "SELECT count(*) FROM return_requests WHERE business_id = %s AND status = 'pending_triage'",
                 ATLAS)[0][0] == 0
    assert not any(b.label.startswith("Triage ") for b in at.button)


def _pending(url: str, n: int = 1, business_id=ATLAS) -> list[tuple[int, str]]:
    return [(r[0], r[1]) for r in _rows(url, "SELECT id, public_id::text FROM return_requests WHERE business_id = %s AND "
                                             "status = 'pending_review' ORDER BY id LIMIT %s", business_id, n)]


def test_deep_link_review_and_approve(fresh_db):
    (rid, pid), = _pending(fresh_db)
    at = open_page("returns", slug="reviewer", query={"return": pid})
    no_exceptions(at)
    assert any(pid in s.value for s in at.subheader)
    assert {"Approve", "Deny", "Escalate"} <= {b.label for b in at.button}
    at.text_area(key=f"review_note_{pid}").input("receipt checks out").run()
    _button(at, "Approve").click().run()
    no_exceptions(at)
    assert "Saved: needs review → approved." in _markdown(at)
    status, notes = _rows(fresh_db, "SELECT status, admin_notes FROM return_requests WHERE id = %s", rid)[0]
    assert (status, notes) == ("approved", "receipt checks out")
    assert at.text_area(key=f"review_note_{pid}").value == ""  # saved with the decision: the field starts empty again
    who, = _rows(fresh_db, "SELECT actor_email FROM audit_log WHERE entity_id = %s AND action = 'approve'", str(rid))[0]
    assert who == user("atlas", "reviewer").email
    timeline = at.dataframe[-1].value
    # in words (dokani.labels), not the code: the seeded triage run, then this decision
    assert list(timeline["Action"]) == ["Triaged by the AI", "Approved"]


def test_deny_without_a_note_is_refused(fresh_db):
    (rid, pid), = _pending(fresh_db)
    at = open_page("returns", slug="reviewer", query={"return": pid})
    _button(at, "Deny").click().run()
    assert any("Say why you deny" in e.value for e in at.error)
    assert _rows(fresh_db, "SELECT status FROM return_requests WHERE id = %s", rid)[0][0] == "pending_review"


def test_stale_decision_shows_who_decided_and_changes_nothing(fresh_db):
    (rid, pid), = _pending(fresh_db)
    at = open_page("returns", slug="reviewer", query={"return": pid})
    owner = actor_for("atlas", "owner")
    with unit_of_work(owner) as uow:
        version = return_detail(uow, pid).version
    with unit_of_work(owner) as uow:
        decide_return(uow, rid, "escalate", expected_version=version, note="fraud team should look")
    at.text_area(key=f"review_note_{pid}").input("fine by me").run()
    _button(at, "Approve").click().run()
    no_exceptions(at)
    assert any("Your decision was not saved" in w.value for w in at.warning)
    said = "\n".join(_texts(at))
    assert owner.email in said and "escalated" in said
    assert _rows(fresh_db, "SELECT status, admin_notes FROM return_requests WHERE id = %s", rid)[0] == (
        "escalated", "fraud team should look")


def test_hostile_customer_text_is_plain_text(seeded_db):
    (pid, reason), = _rows(seeded_db, "SELECT public_id::text, reason_for_return FROM return_requests WHERE business_id = %s "
                                      "AND reason_for_return LIKE '%%<script>%%' LIMIT 1", ATLAS)
    at = open_page("returns", query={"return": pid})
    no_exceptions(at)
    assert reason in _texts(at)  # verbatim, as text
    assert "<script>" not in _markdown(at)
    assert sum(reason in t for t in _texts(at)) >= 2  # the request and the transcript, both as text


def test_deep_link_to_another_tenants_return_reveals_nothing(seeded_db):
    (rid, pid), = _pending(seeded_db, business_id=business("bloom").business_id)
    at = open_page("returns", slug="reviewer", query={"return": pid})
    no_exceptions(at)
    assert any("No return with that id" in e.value for e in at.error)
    assert not at.subheader


def test_bulk_deny_selected_rows_reports_the_one_that_changed(fresh_db):
    at = open_page("returns", slug="reviewer")
    shown = at.dataframe[0].value
    picked = list(shown["public_id"][:3])
    at.session_state["queue_table_0"] = {"selection": {"rows": [0, 1, 2], "columns": [], "cells": []}}
    at.run()
    _button(at, "Deny 3 selected").click().run()
    assert any("Say why you deny" in e.value for e in at.error)  # one note for all, and deny needs it

    owner = actor_for("atlas", "owner")
    (stale_id,), = _rows(fresh_db, "SELECT id FROM return_requests WHERE public_id::text = %s", picked[0])
    with unit_of_work(owner) as uow:
        version = return_detail(uow, picked[0]).version
    with unit_of_work(owner) as uow:
        decide_return(uow, stale_id, "approve", expected_version=version, note="already refunded")
    at.text_area(key="queue_bulk_note").input("outside the return window").run()
    _button(at, "Deny 3 selected").click().run()
    no_exceptions(at)
    assert any("2 returns denied. 1 left unchanged" in w.value for w in at.warning)
    assert any(picked[0] in t and owner.email in t for t in _texts(at))
    statuses = dict(_rows(fresh_db, "SELECT public_id::text, status FROM return_requests WHERE public_id::text = ANY(%s)", picked))
    assert statuses == {picked[0]: "approved", picked[1]: "denied", picked[2]: "denied"}
    assert picked[1] not in set(at.dataframe[0].value["public_id"])  # the queue was read again


def test_hostile_order_email_evidence_and_transcript_stay_text(fresh_db):
    order, email = "[pay here](http://evil.example)", "**boss**@evil.example"
    with psycopg.connect(fresh_db) as conn:
        pid = conn.execute(
            "INSERT INTO return_requests (business_id, order_id, customer_email, reason_for_return, status, evidence_urls, "
            "conversation_log, created_at) VALUES (%s, %s, %s, %s, 'pending_review', %s, %s::jsonb, timezone('utc', now())) "
            "RETURNING public_id::text",
            (ATLAS, order, email, "# Refund <b>now</b>", ["javascript:alert(1)", "https://ok.example/p.png"],
             '[{"role": "customer", "text": "<iframe src=//evil.example></iframe>"}]'),
        ).fetchone()[0]
    at = open_page("returns", slug="reviewer", query={"return": pid})
    no_exceptions(at)
    texts = "\n".join(_texts(at))
    for hostile in (order, email, "# Refund <b>now</b>", "javascript:alert(1)", "<iframe src=//evil.example></iframe>"):
        assert hostile in texts
    md = _markdown(at)
    assert "evil.example" not in md and "<b>" not in md and "javascript:" not in md
    links = [b.proto.url for b in at.main.get("link_button")]
    assert links == ["https://ok.example/p.png"]  # only the http(s) evidence is a link


def test_triage_one_new_return_from_its_panel_under_a_chosen_version(fresh_db):
    (rid, pid), = _rows(fresh_db, "SELECT id, public_id::text FROM return_requests WHERE business_id = %s "
                                  "AND status = 'pending_triage' ORDER BY id LIMIT 1", ATLAS)
    at = open_page("returns", slug="reviewer", query={"return": pid})
    assert _button(at, "Approve").disabled  # not triaged yet: nothing to approve
    at.selectbox(key=f"review_policy_{pid}").set_value("v1.0").run()
    _button(at, "Run triage").click().run()
    no_exceptions(at)
    assert any("Triaged under v1.0" in s.value for s in at.success)
    status, version, details = _rows(fresh_db, "SELECT status, policy_version_used, triage_details FROM return_requests "
                                               "WHERE id = %s", rid)[0]
    assert status != "pending_triage" and version == "v1.0"
    rules = at.dataframe  # the rule trace is now shown, one row per clause the engine checked
    assert any(list(df.value.columns[:2]) == ["Rule", "Outcome"] and len(df.value) == len(details["rules_fired"])
               for df in rules)
    assert "The engine's reading now" not in _markdown(at)  # a stored trace is what the panel explains


def test_back_to_the_queue_shows_the_decision(fresh_db):
    (rid, pid), = _pending(fresh_db)
    at = open_page("returns", slug="reviewer")
    assert pid in set(at.dataframe[0].value["public_id"])
    at.query_params["return"] = pid
    at.run()
    at.text_area(key=f"review_note_{pid}").input("ok").run()
    _button(at, "Approve").click().run()
    _button(at, "← Back to the queue").click().run()
    no_exceptions(at)
    assert "return" not in at.query_params
    assert pid not in set(at.dataframe[0].value["public_id"])  # decided: no longer waiting


def test_untraced_return_shows_the_engines_reading_now_without_writing(fresh_db):
    import re

    from dokani.triage.service import engine_reading

    seeded_db = fresh_db
    with psycopg.connect(fresh_db) as conn:  # a return triaged before this engine stored rule traces
        conn.execute("UPDATE return_requests SET triage_details = NULL, ai_confidence = NULL WHERE id = (SELECT min(id) "
                     "FROM return_requests "
                     "WHERE business_id = %s AND status = 'pending_review' AND conversation_log IS NOT NULL)", (ATLAS,))
    (rid, pid, version), = _rows(
        seeded_db, "SELECT id, public_id::text, policy_version_used FROM return_requests WHERE business_id = %s AND "
                   "status = 'pending_review' AND triage_details IS NULL AND conversation_log IS NOT NULL "
                   "ORDER BY id LIMIT 1", ATLAS)
    with unit_of_work(actor_for("atlas", "reviewer")) as uow:
        reading = engine_reading(uow, rid, version)
    at = open_page("returns", slug="reviewer", query={"return": pid})
    no_exceptions(at)
    md = _markdown(at)
    from dokani.ui.text import md as escaped

    # version names are typed by admins: shown escaped (v1\.1), i.e. verbatim on the page
    assert "The engine's reading now (not stored)" in md and f"policy version {escaped(reading.policy_version)}" in md
    clauses = [df.value for df in at.dataframe if list(df.value.columns) == ["Rule", "Outcome", "Detail", "Inputs"]]
    assert len(clauses) == 1 and list(clauses[0]["Rule"]) == [c.rule for c in reading.result.rules_fired]
    assert all(clauses[0]["Inputs"].str.len() > 0)  # every clause shows what it looked at
    confidence = next(m for m in at.metric if m.label == "Confidence")
    stored, = _rows(seeded_db, "SELECT ai_recommendation FROM return_requests WHERE id = %s", rid)[0]
    short = {"auto_approve": "approve", "auto_deny": "deny", "human_review": "review"}[reading.result.recommendation]
    assert confidence.value == f"{reading.result.confidence:.0%}"  # not stored: the engine's, and marked so
    assert confidence.delta == ("not stored" if stored == reading.result.recommendation else f"engine now: {short}")
    assert next(m for m in at.metric if m.label == "Engine risk score").value == f"{reading.result.risk_score:.2f}"
    texts = _texts(at)
    for factor in reading.result.risk_factors:
        assert any(factor in t for t in texts)
    assert _metrics(at)["Order value"].startswith("$")
    stamps = [t for t in texts if re.match(r"^(customer|agent|assistant|user) · ", t)]
    assert stamps and all(re.search(r" · \d{4}-\d\d-\d\d \d\d:\d\d UTC$", t) for t in stamps), stamps
    assert not any(re.search(r"\d{2}T\d{2}:\d{2}:\d{2}\.\d+", t) for t in texts)  # no raw ISO timestamps
    assert _rows(seeded_db, "SELECT triage_details FROM return_requests WHERE id = %s", rid)[0][0] is None


def test_a_search_that_matches_nothing_says_so_and_shows_no_table(seeded_db):
    at = open_page("returns", slug="reviewer")
    at.text_input(key="queue_search").input("no-such-return-anywhere").run()
    no_exceptions(at)
    assert any("No returns to show" in i.value for i in at.info)
    assert not at.dataframe and not any(b.label.startswith("Export CSV") for b in at.get("download_button"))
    assert any(t.startswith("Filters in force: status: needs review, escalated") for t in _texts(at))
