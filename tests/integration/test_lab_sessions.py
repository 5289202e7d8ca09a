"""Chat test sessions end to end against real Postgres: sessions, turns, the agent's decisions, test returns."""
from __future__ import annotations

import json
from uuid import UUID

import psycopg
import pytest

from db.uow import unit_of_work
from dokani.lab import conversations, personas, replies
from dokani.lab import sessions as chat_lab
from dokani.errors import Conflict, Invalid, NotAllowed
from tests.lab_fixtures import load_lab_business, persona_id
from tests.conftest import actor_for


@pytest.fixture
def lab(empty_db):
    load_lab_business(empty_db)
    return empty_db


def _new(url, *, persona="Ava", policy="v1", email="alex@example.com", order=None, name="Jacket test", mode="normal"):
    with unit_of_work(actor_for("atlas", "tester")) as uow:
        return chat_lab.create_session(uow, chat_lab.SessionDraft(
            name=name, chat_mode=mode, persona_id=UUID(persona_id(url, persona)), policy_version=policy,
            customer_email=email, order_id=order))


def _say(session_id, text):
    with unit_of_work(actor_for("atlas", "tester")) as uow:
        return conversations.send_message(uow, session_id, text)


def test_a_damaged_item_with_a_photo_is_approved_and_opens_a_test_return(lab):
    s = _new(lab)
    turn = _say(s.id, "Hi, I want to return order ATL-1001, it arrived damaged [photo]")
    meta = turn.agent.metadata
    assert meta["intent"] == "return_request"
    assert meta["order_id"] == "ATL-1001"
    assert meta["triage"]["recommendation"] == "auto_approve"
    assert {c["rule"] for c in meta["triage"]["rules_fired"]} >= {"return_window", "required_evidence"}
    assert "approved" in turn.agent.message and "ATL-1001" in turn.agent.message
    assert isinstance(meta["latency_ms"], int)
    with psycopg.connect(lab) as conn:
        row = conn.execute(
            "SELECT status, is_test, test_session_id, policy_version_used, customer_email FROM return_requests"
        ).fetchall()
        live = conn.execute("SELECT count(*) FROM return_requests WHERE NOT is_test").fetchone()[0]
        usage = conn.execute("SELECT usage_count, last_used_at IS NOT NULL FROM provider_configs WHERE config_name = 'Ava'").fetchone()
    assert row == [("approved", True, s.id, "v1", "alex@example.com")]
    assert live == 0, "a test return leaked into the live queue"
    assert usage == (1, True)


def test_the_agent_asks_for_the_reason_then_the_photo_then_decides(lab):
    s = _new(lab, email="sam@example.com")
    first = _say(s.id, "I'd like to return my boots")
    assert first.agent.metadata["order_id"] == "ATL-2001"  # the only order of this customer
    assert first.agent.metadata["order_source"] == "email"
    assert "why" in first.agent.message.lower()
    second = _say(s.id, "They are too small")
    assert "photo" in second.agent.message.lower()
    assert second.agent.metadata["return_opened"] is None
    third = _say(s.id, "here you go [photo]")
    assert third.agent.metadata["triage"]["recommendation"] == "auto_approve"
    assert third.agent.metadata["return_opened"]["status"] == "approved"
    again = _say(s.id, "I want to return the boots")
    assert "already" in again.agent.message and again.agent.metadata["return_opened"] is None


def test_outside_the_category_window_is_denied_with_the_reason(lab):
    s = _new(lab)
    turn = _say(s.id, "Return ATL-1002 please, the headphones are defective [photo]")
    assert turn.agent.metadata["triage"]["recommendation"] == "auto_deny"
    assert "outside_return_window" in turn.agent.metadata["triage"]["policy_violations"]
    assert "14 days" in turn.agent.message and "denied" in turn.agent.message


def test_the_session_policy_version_decides_a_draft_gives_another_outcome(lab):
    s = _new(lab, policy="v2-draft")
    turn = _say(s.id, "Return ATL-1002 please, the headphones are defective")
    triage = turn.agent.metadata["triage"]
    assert turn.agent.metadata["policy_version"] == "v2-draft"
    assert triage["recommendation"] == "human_review"  # 250 is above v2's auto-approve threshold of 100
    assert turn.agent.metadata["return_opened"]["status"] == "pending_review"


def test_policy_questions_are_answered_from_the_rules(lab):
    s = _new(lab)
    assert "30 days" in _say(s.id, "How long do I have to return something?").agent.message
    electronics = _say(s.id, "How many days do I have to return electronics?").agent.message
    assert "14 days" in electronics
    assert "final sale" in _say(s.id, "Is beauty returnable?").agent.message
    draft = _new(lab, policy="v2-draft", name="draft")
    assert "60 days" in _say(draft.id, "What is your return policy?").agent.message


def test_several_orders_make_the_agent_ask_which_one(lab):
    s = _new(lab)
    turn = _say(s.id, "Where is my order?")
    assert turn.agent.metadata["intent"] == "order_status"
    assert all(o in turn.agent.message for o in ("ATL-1001", "ATL-1002", "ATL-1003"))
    follow = _say(s.id, "ATL-1003")
    assert "Matte lipstick" in follow.agent.message and "delivered" in follow.agent.message


def test_an_unknown_order_id_is_named(lab):
    s = _new(lab)
    turn = _say(s.id, "I want to return order ZZZ-9999, it is broken")
    assert "ZZZ-9999" in turn.agent.message and turn.agent.metadata["order_id"] is None


def test_persona_wording_greeting_sign_off_and_escalation(lab):
    ava = _new(lab)
    with unit_of_work(actor_for("atlas", "tester")) as uow:
        assert conversations.greeting(uow, ava.id) == "Hi, I'm Ava from Atlas Outfitters! How can I help?"
    assert _say(ava.id, "thanks, bye").agent.message == "Happy trails! - Ava"
    escalated = _say(ava.id, "I want to talk to a real person")
    assert escalated.agent.metadata["escalated"] is True
    max_ = _new(lab, persona="Max", name="formal")
    first = _say(max_.id, "Let me speak to a manager")
    assert first.agent.metadata["escalated"] is False and "sort this out" in first.agent.message
    assert _say(max_.id, "Let me speak to a manager").agent.metadata["escalated"] is True
    assert _say(max_.id, "bye").agent.message == "Kind regards, Max."


def test_replies_are_deterministic(lab):
    script = ["hello", "I want to return ATL-1001, it's damaged", "[photo]", "where is my order ATL-1001?", "bye"]
    replies = []
    for name in ("one", "two"):
        s = _new(lab, name=name)
        replies.append([_say(s.id, m).agent.message.replace("#", "") for m in script])
    strip = [[r.split("test return")[0] for r in rs] for rs in replies]
    assert strip[0] == strip[1]


def test_session_list_search_rename_archive_and_export(lab):
    a = _new(lab, name="Jacket damaged")
    _new(lab, name="Boots too small", email="sam@example.com")
    _say(a.id, "hello")
    with unit_of_work(actor_for("atlas", "tester")) as uow:
        listed = chat_lab.list_sessions(uow)
        assert [s.name for s in listed] == ["Jacket damaged", "Boots too small"]  # the latest message moved it up
        assert [s.name for s in chat_lab.list_sessions(uow, search="sam@")] == ["Boots too small"]
        jacket = next(s for s in listed if s.name == "Jacket damaged")
        assert jacket.messages == 2 and jacket.persona_name == "Ava"
        current = chat_lab.get_session(uow, a.id)
        renamed = chat_lab.rename_session(uow, a.id, "Jacket (renamed)", current.updated_at)
        with pytest.raises(Conflict):
            chat_lab.rename_session(uow, a.id, "stale edit", current.updated_at)
        chat_lab.set_archived(uow, a.id, True, renamed.updated_at)
        assert [s.name for s in chat_lab.list_sessions(uow)] == ["Boots too small"]
        assert "Jacket (renamed)" in [s.name for s in chat_lab.list_sessions(uow, include_archived=True)]
        exported = json.loads(conversations.export_transcript(uow, a.id, "json"))
        assert [m["sender"] for m in exported["messages"]] == ["customer", "agent"]
        assert exported["session"]["archived"] is True
        as_text = conversations.export_transcript(uow, a.id, "text")
        assert "Customer: hello" in as_text and "Ava: Hi, I'm Ava" in as_text
    with pytest.raises(Conflict):
        _say(a.id, "still there?")
    with psycopg.connect(lab) as conn:
        actions = [r[0] for r in conn.execute("SELECT action FROM audit_log WHERE entity = 'chat_sessions' ORDER BY id")]
    assert {"chat_session.create", "chat_session.turn", "chat_session.rename", "chat_session.archive"} <= set(actions)


def test_bad_drafts_are_refused_field_by_field(lab):
    with unit_of_work(actor_for("atlas", "tester")) as uow:
        with pytest.raises(Invalid) as err:
            chat_lab.create_session(uow, chat_lab.SessionDraft(
                name="", chat_mode="telegram", persona_id=None, policy_version="v9", customer_email="nope", order_id="X"))
    assert set(err.value.problems) >= {"name", "chat_mode", "persona", "policy_version", "customer_email"}


def test_reviewers_cannot_open_test_sessions(lab):
    with unit_of_work(actor_for("atlas", "reviewer")) as uow:
        with pytest.raises(NotAllowed):
            chat_lab.create_session(uow, chat_lab.SessionDraft(
                name="x", persona_id=UUID(persona_id(lab, "Ava")), policy_version="v1", customer_email="a@b.example"))


def test_on_the_demo_data_seeded_personas_and_sessions_work(fresh_db):
    with psycopg.connect(fresh_db) as conn:
        order_id, email = conn.execute(
            "SELECT order_id, customer_email FROM mock_orders WHERE business_id = %s ORDER BY order_id LIMIT 1",
            (actor_for("atlas").business_id,)).fetchone()
        seeded_session = conn.execute(
            "SELECT id FROM chat_sessions WHERE business_id = %s AND session_type = 'test_mode' AND is_active ORDER BY id LIMIT 1",
            (actor_for("atlas").business_id,)).fetchone()[0]
        live_before = conn.execute("SELECT count(*) FROM return_requests WHERE NOT is_test").fetchone()[0]
    with unit_of_work(actor_for("atlas", "tester")) as uow:
        options = [o.version for o in chat_lab.policy_options(uow)]
        assert options[0] == "v1.1" and "v1.2-draft" in options and "v1.0" not in options  # retired is left out
        ava = next(p for p in personas.list_personas(uow) if p.style.persona_name == "Ava")
        assert "Atlas Outfitters" in replies.opening_line(ava.style, shop="Atlas Outfitters")
        s = chat_lab.create_session(uow, chat_lab.SessionDraft(
            name="demo", persona_id=ava.id, policy_version="v1.1", customer_email=email, order_id=order_id))
        turn = conversations.send_message(uow, s.id, f"I want to return order {order_id}, it arrived damaged [photo]")
        assert turn.reply.order_id == order_id and turn.reply.triage is not None
        assert turn.reply.return_opened is not None
        resumed = conversations.send_message(uow, seeded_session, "hello")
        assert resumed.agent.message
    with psycopg.connect(fresh_db) as conn:
        assert conn.execute("SELECT count(*) FROM return_requests WHERE NOT is_test").fetchone()[0] == live_before
        assert conn.execute("SELECT count(*) FROM return_requests WHERE is_test").fetchone()[0] == 1
