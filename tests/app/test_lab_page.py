"""The Chat test lab page (AppTest): create a session, chat, see the agent's decision, run a suite, edit personas."""
from __future__ import annotations

import psycopg
import pytest
from streamlit.testing.v1 import element_tree

from db.demo import business
from dokani.jobs.worker import work_until_idle
from tests.app.conftest import no_exceptions, open_page

ATLAS = business("atlas").business_id


def _order(url):
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT order_id, customer_email, product_name FROM mock_orders WHERE business_id = %s "
            "ORDER BY order_id LIMIT 1", (ATLAS,)).fetchone()


def _texts(at) -> list[str]:
    return [t.value for t in at.text]


def test_create_a_session_chat_and_open_a_test_return(fresh_db):
    order_id, email, product = _order(fresh_db)
    at = open_page("chat", slug="tester")
    no_exceptions(at)
    assert at.title[0].value == "Chat test lab"
    assert len(at.selectbox(key="chat_pick").options) > 1  # the demo sessions are listed
    at.selectbox(key="chat_pick").set_value("__new__").run()
    at.text_input(key="chat_new_name").input("AppTest jacket")
    at.text_input(key="chat_new_email").input(email)
    at.text_input(key="chat_new_order").input(order_id)
    at.button(key="FormSubmitter:chat_lab_new_session-Create session").click().run()
    no_exceptions(at)
    picked = at.selectbox(key="chat_pick")
    assert "AppTest jacket" in picked.format_func(picked.value)
    at.chat_input(key=next(k for k in _keys(at) if k.startswith("chat_input_"))).set_value(
        f"I want to return order {order_id}, it arrived damaged [photo]").run()
    no_exceptions(at)
    texts = _texts(at)
    assert f"I want to return order {order_id}, it arrived damaged [photo]" in texts
    reply = next(t for t in texts if "test return #" in t)
    assert order_id in reply
    with psycopg.connect(fresh_db) as conn:
        status, is_test = conn.execute(
            "SELECT status, is_test FROM return_requests WHERE order_id = %s AND is_test", (order_id,)).fetchone()
    words = {"approved": "approved", "denied": "denied", "pending_review": "review"}
    assert is_test and words[status] in reply  # the reply says what the engine decided
    assert any(e.label.startswith("Details: return\\_request") for e in at.expander)  # stored metadata: escaped


def _keys(at) -> list[str]:
    return [w.key for w in at.chat_input]


def test_customer_text_is_rendered_as_plain_text(fresh_db):
    at = open_page("chat", slug="tester")
    key = next(k for k in _keys(at) if k.startswith("chat_input_"))
    at.chat_input(key=key).set_value("**bold** <b>html</b> [link](http://evil.example)").run()
    no_exceptions(at)
    assert "**bold** <b>html</b> [link](http://evil.example)" in _texts(at)
    assert not any("evil.example" in m.value for m in at.markdown)


def test_a_bad_session_form_says_what_is_wrong(fresh_db):
    at = open_page("chat", slug="tester")
    at.selectbox(key="chat_pick").set_value("__new__").run()
    at.text_input(key="chat_new_email").input("not-an-email")
    at.button(key="FormSubmitter:chat_lab_new_session-Create session").click().run()
    no_exceptions(at)
    assert at.error and "cannot be created" in at.error[0].value
    assert any("customer_email" in c.value.replace("\\", "") for c in at.caption)  # markdown-escaped field name


def test_run_the_example_suite_from_the_page(fresh_db):
    at = open_page("chat", slug="tester")
    persona = at.selectbox(key="suite_persona")
    persona.select_index(next(i for i, o in enumerate(persona.options) if o.startswith("Ava"))).run()
    at.selectbox(key="suite_policy").set_value("v1.1").run()
    at.button(key="suite_run").click().run()
    no_exceptions(at)
    assert any("waiting for a worker" in i.value for i in at.info)  # queued: the page request stays short
    work_until_idle()
    at.run()
    no_exceptions(at)
    assert any(s.value == "Suite run finished: 5 of 5 scenarios passed." for s in at.success)
    assert any(s.value.startswith("All scenarios passed") for s in at.success)
    frame = at.dataframe[[i for i, d in enumerate(at.dataframe) if "Scenario" in d.value.columns][0]].value
    assert set(frame["Result"]) == {"pass"} and len(frame) == 5
    with psycopg.connect(fresh_db) as conn:
        runs = conn.execute("SELECT count(*) FROM persona_test_logs WHERE test_result->>'suite' = 'Atlas returns basics'").fetchone()[0]
    assert runs == 5
    # the "latest run" line and the chart already include this run
    assert any(c.value.startswith("Latest run against v1\\.1: 5 of 5 scenarios passed (Atlas returns basics, "
                                  "persona Ava") for c in at.caption)


def test_a_failing_suite_shows_the_failing_expectation(fresh_db):
    at = open_page("chat", slug="tester")
    persona = at.selectbox(key="suite_persona")
    persona.select_index(next(i for i, o in enumerate(persona.options) if o.startswith("Ava"))).run()
    at.selectbox(key="suite_policy").set_value("v1.2-draft").run()
    at.button(key="suite_run").click().run()
    work_until_idle()
    at.run()
    no_exceptions(at)
    assert at.error and "scenarios failed" in at.error[0].value
    assert any("triage outcome: expected 'auto_approve'" in t for t in _texts(at))


def test_set_the_default_persona(fresh_db):
    at = open_page("chat", slug="admin")
    pick = at.selectbox(key="persona_pick")
    pick.select_index(next(i for i, o in enumerate(pick.options) if o.startswith("Max"))).run()
    at.button(key="persona_default").click().run()
    no_exceptions(at)
    with psycopg.connect(fresh_db) as conn:
        defaults = conn.execute("SELECT config_name FROM provider_configs WHERE business_id = %s AND is_default "
                                "AND provider = 'elevenlabs'", (ATLAS,)).fetchall()
    assert [d[0] for d in defaults] == ["Max (brisk voice)"]
    assert any("is now the default" in m.value for m in at.success)  # said on the page, not only in the table


def test_the_persona_table_speaks_plainly_and_a_save_is_confirmed(fresh_db):
    at = open_page("chat", slug="admin")
    table = next(d.value for d in at.dataframe if "Persona" in d.value.columns)
    assert "offer_human" not in set(table["Escalation"])  # labels, not codes
    with psycopg.connect(fresh_db) as conn:
        unused = conn.execute("SELECT count(*) FROM provider_configs WHERE business_id = %s AND provider IN "
                              "('elevenlabs', 'tavus') AND last_used_at IS NULL", (ATLAS,)).fetchone()[0]
    assert (table["Last used"] == "never").sum() == unused
    at.button(key=next(b.key for b in at.button if b.key and "persona_edit_" in b.key)).click().run()
    no_exceptions(at)
    assert any(m.value.startswith("Saved persona") for m in at.success)


def test_details_of_a_turn_say_what_was_not_recorded(seeded_db):
    at = open_page("chat", slug="tester")
    with psycopg.connect(seeded_db) as conn:
        missing = conn.execute(
            "SELECT count(*) FROM chat_messages m JOIN chat_sessions s ON s.id = m.session_id "
            "WHERE s.business_id = %s AND m.sender <> 'customer' AND m.metadata ? 'intent' AND NOT m.metadata ? 'latency_ms'",
            (ATLAS,)).fetchone()[0]
    assert missing  # the demo sessions hold agent turns recorded without a latency
    details = [d.value for d in at.dataframe if list(d.value.columns) == ["Detail", "Value"]]
    assert details
    values = [v for frame in details for v in frame["Value"]]
    assert not any(str(v).startswith("—") and "ms" in str(v) for v in values)  # no "— ms" placeholder
    assert "not recorded" in values


def test_a_reviewer_reads_but_cannot_chat(seeded_db):
    at = open_page("chat", slug="reviewer")
    no_exceptions(at)
    assert any("can read test sessions" in i.value for i in at.info)
    assert at.chat_input and all(c.disabled for c in at.chat_input)


@pytest.fixture
def browser_selectboxes(monkeypatch):
    """Selectboxes answer the server as a browser does: with the option label the browser holds.

    The browser keeps the label the server last set (or the user picked) and sends it back on every rerun,
    even after the server relabelled that option; AppTest would re-serialise the value against the newest
    options and so hide what a user meets when a label changes (a message count, a rename).
    """
    held: dict[str, str] = {}
    answer = element_tree.Selectbox._widget_state.fget

    def widget_state(self):
        ws = answer(self)
        if not isinstance(self._value, element_tree.InitialValue) or self.id not in held:
            held[self.id] = ws.string_value  # picked by the test, or the label first shown
        elif self.proto.set_value:
            held[self.id] = self.proto.raw_value  # the server set the selection
        ws.string_value = held[self.id]
        return ws

    monkeypatch.setattr(element_tree.Selectbox, "_widget_state", property(widget_state))


def _say(at, message: str):
    return at.chat_input(key=next(k for k in _keys(at) if k.startswith("chat_input_"))).set_value(message).run()


def _customer_messages(url, session_id: str) -> list[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT message FROM chat_messages WHERE session_id = %s AND sender = 'customer' "
                            "ORDER BY created_at, (metadata->>'seq')::int", (session_id,)).fetchall()
    return [r[0] for r in rows]


def _chat_through(at, session_id: str, said: list[str]) -> None:
    for message in said:
        _say(at, message)
        no_exceptions(at)
        assert at.selectbox(key="chat_pick").value == session_id, f"the page left the session after {message!r}"
        assert message in _texts(at)


def test_a_seeded_session_keeps_every_message_of_a_long_chat(fresh_db, browser_selectboxes):
    at = open_page("chat", slug="tester")
    session_id = at.selectbox(key="chat_pick").value
    before = _customer_messages(fresh_db, session_id)
    said = ["Hello there", "What is your return policy?", "How long do I have to return shoes?",
            "Can I speak to a human please?", "Thanks, bye"]
    _chat_through(at, session_id, said)
    assert _customer_messages(fresh_db, session_id) == before + said
    texts = _texts(at)
    assert all(message in texts for message in said)


def test_a_new_session_keeps_every_message_of_a_long_chat(fresh_db, browser_selectboxes):
    order_id, email, _product = _order(fresh_db)
    at = open_page("chat", slug="tester")
    at.selectbox(key="chat_pick").set_value("__new__").run()
    at.text_input(key="chat_new_name").input("Four turns")
    at.text_input(key="chat_new_email").input(email)
    at.button(key="FormSubmitter:chat_lab_new_session-Create session").click().run()
    session_id = at.selectbox(key="chat_pick").value
    assert session_id != "__new__"
    said = ["Hi", f"Where is my order {order_id}?", "What is your return policy?", "I want to speak to a person"]
    _chat_through(at, session_id, said)
    assert _customer_messages(fresh_db, session_id) == said
    texts = _texts(at)
    assert all(message in texts for message in said)
    assert at.chat_input and not at.chat_input[0].disabled  # still chatting, not back at "New test session…"


def test_a_renamed_persona_stays_picked(fresh_db, browser_selectboxes):
    at = open_page("chat", slug="admin")
    pick = at.selectbox(key="persona_pick")
    nora = next(i for i, o in enumerate(pick.options) if o.startswith("Nora"))
    assert nora > 0  # not the first persona, which the picker would fall back to
    pick.select_index(nora).run()
    chosen = at.selectbox(key="persona_pick").value
    name = next(t.key for t in at.text_input if t.key and t.key.startswith("pe_") and t.key.endswith("_name"))
    at.text_input(key=name).input("Nora renamed")
    at.button(key=f"FormSubmitter:persona_edit_{chosen}-Save persona").click().run()
    no_exceptions(at)
    for _ in range(2):  # whatever the tester does next, the picker stays on the persona just saved
        at.run()
        picked = at.selectbox(key="persona_pick")
        assert picked.value == chosen and picked.format_func(picked.value).startswith("Nora renamed")
