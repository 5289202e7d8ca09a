"""A call tied to the return it was about: by return id, order id, or email and time; reviewers correct it."""
from __future__ import annotations

import copy
from datetime import timezone

import pytest
from sqlalchemy import text

from db.engine import owner_engine
from db.uow import unit_of_work
from dokani.calls import linking
from dokani.errors import Invalid, NotAllowed
from tests.calls_fixtures import EL_CONVERSATION, EL_TRANSCRIPTION, file, import_files, payload
from tests.conftest import actor_for


def returns(business_id, n=2):
    with owner_engine().connect() as conn:
        return conn.execute(text("SELECT id, public_id, order_id, customer_email, created_at FROM return_requests "
                                 "WHERE business_id = :b ORDER BY created_at DESC LIMIT :n"),
                            {"b": business_id, "n": n}).mappings().all()


def link_of_call(conversation=EL_CONVERSATION):
    with owner_engine().connect() as conn:
        return conn.execute(text("SELECT l.return_request_id, l.method, cs.return_request_id AS conversation_return "
                                 "FROM call_return_links l JOIN call_sessions c ON c.id = l.call_session_id "
                                 "JOIN ai_conversation_state s ON s.id = c.ai_conversation_state_id "
                                 "JOIN conversation_sessions cs ON cs.id = s.session_id "
                                 "WHERE c.elevenlabs_conversation_id = :c"), {"c": conversation}).mappings().first()


def call_with(dynamic: dict, **meta) -> dict:
    doc = copy.deepcopy(payload(EL_TRANSCRIPTION))
    doc["data"]["conversation_initiation_client_data"]["dynamic_variables"] = dynamic
    doc["data"]["user_id"] = None
    doc["data"]["metadata"].update(meta)
    return doc


def test_linked_by_return_public_id_over_order_id(fresh_db, atlas_owner):
    first, second = returns(atlas_owner.business_id)
    import_files(atlas_owner, [file("a.json", call_with({"return_id": str(first["public_id"]),
                                                          "order_id": second["order_id"]}))])
    link = link_of_call()
    assert link["return_request_id"] == first["id"] and link["method"] == "return_id"
    assert link["conversation_return"] == first["id"]


def test_linked_by_order_id(fresh_db, atlas_owner):
    r = returns(atlas_owner.business_id, 1)[0]
    import_files(atlas_owner, [file("a.json", call_with({"order_id": r["order_id"]}))])
    assert link_of_call()["method"] == "order_id"


def test_linked_by_email_when_the_return_opened_during_the_call(fresh_db, atlas_owner):
    r = returns(atlas_owner.business_id, 1)[0]
    start = int(r["created_at"].replace(tzinfo=timezone.utc).timestamp()) - 30
    import_files(atlas_owner, [file("a.json", call_with({"customer_email": r["customer_email"].upper()},
                                                         start_time_unix_secs=start))])
    link = link_of_call()
    assert link["return_request_id"] == r["id"] and link["method"] == "email_time"


def test_no_match_no_link(fresh_db, atlas_owner):
    import_files(atlas_owner, [file("a.json", call_with({"customer_email": "nobody@example.com"}))])
    assert link_of_call() is None


def test_a_reviewer_corrects_the_link_and_a_reimport_keeps_it(fresh_db, atlas_owner):
    first, second = returns(atlas_owner.business_id)
    import_files(atlas_owner, [file("a.json", call_with({"order_id": first["order_id"]}))])
    with owner_engine().connect() as conn:
        call_id = conn.execute(text("SELECT id FROM call_sessions WHERE elevenlabs_conversation_id = :c"),
                               {"c": EL_CONVERSATION}).scalar()
    reviewer = actor_for("atlas", "reviewer")
    with unit_of_work(reviewer) as uow:
        linking.correct_link(uow, call_id, second["public_id"], note="customer named the other order")
        uow.commit()
    later = call_with({"order_id": first["order_id"]})
    later["event_timestamp"] += 60  # a re-sent, newer event
    import_files(atlas_owner, [file("b.json", later)])
    link = link_of_call()
    assert link["return_request_id"] == second["id"] and link["method"] == "reviewer"
    with unit_of_work(reviewer) as uow:
        shown = linking.call_link(uow, call_id)
        about = linking.calls_about_return(uow, second["id"])
    assert shown.method_label == "set by a reviewer" and [c.call_id for c in about] == [call_id]
    with unit_of_work(reviewer) as uow, pytest.raises(Invalid):
        linking.correct_link(uow, call_id, returns(actor_for("bloom").business_id, 1)[0]["public_id"])
    with unit_of_work(actor_for("atlas", "viewer")) as uow, pytest.raises(NotAllowed):
        linking.correct_link(uow, call_id, None)


def test_a_link_cannot_point_at_another_business_return(fresh_db, atlas_owner):
    from sqlalchemy.exc import ProgrammingError

    import_files(atlas_owner, [file("a.json", call_with({}))])
    bloom_return = returns(actor_for("bloom").business_id, 1)[0]["id"]
    with owner_engine().connect() as conn:
        call_id = conn.execute(text("SELECT id FROM call_sessions WHERE elevenlabs_conversation_id = :c"),
                               {"c": EL_CONVERSATION}).scalar()
    with unit_of_work(atlas_owner) as uow, pytest.raises(ProgrammingError):
        uow.session.execute(text("INSERT INTO call_return_links (call_session_id, business_id, return_request_id, method) "
                                 "VALUES (:c, :b, :r, 'reviewer')"),
                            {"c": call_id, "b": atlas_owner.business_id, "r": bloom_return})
