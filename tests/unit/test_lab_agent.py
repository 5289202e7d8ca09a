"""The agent's pure parts: intent detection, order ids and evidence in text, persona settings, LLM phrasing."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from dokani.lab import intents, personas, phrasing


@pytest.mark.parametrize(
    "message, intent",
    [
        ("I want to return order ATL-1001, it arrived damaged", "return_request"),
        ("Can I get a refund for my jacket? It's too small", "return_request"),
        ("Where is my order?", "order_status"),
        ("My parcel hasn't arrived yet", "order_status"),
        ("What is the status of order ATL-1000111?", "order_status"),
        ("what's the status of ATL-1000111", "order_status"),
        ("Has order ATL-1002 shipped?", "order_status"),
        ("Any update on my order?", "order_status"),
        ("How many days do I have to return shoes?", "policy_question"),
        ("What is your return policy?", "policy_question"),
        ("Do I need a photo?", "policy_question"),
        ("This is absolutely unacceptable, worst service ever", "complaint"),
        ("I want to speak to a manager, this is ridiculous", "escalate_to_human"),
        ("Can I talk to a real person?", "escalate_to_human"),
        ("thanks, bye", "goodbye"),
        ("Thank you!", "goodbye"),
        ("Hello", "greeting"),
        ("purple monkey dishwasher", "unknown"),
    ],
)
def test_intents(message, intent):
    assert intents.detect_intent(message).intent == intent


def test_confidence_is_higher_for_clear_messages_than_for_mixed_ones():
    clear = intents.detect_intent("I want to return order ATL-1001, it arrived damaged").confidence
    mixed = intents.detect_intent("refund? policy?").confidence
    unknown = intents.detect_intent("hmm").confidence
    assert clear > mixed > unknown


def test_the_agents_open_question_gives_context_to_a_bare_answer():
    assert intents.detect_intent("too small", pending="return_reason").intent == "return_request"
    assert intents.detect_intent("[photo]", pending="evidence").intent == "return_request"
    assert intents.detect_intent("ATL-1003", pending="status_order_choice").intent == "order_status"
    assert intents.detect_intent("bye", pending="evidence").intent == "goodbye"
    assert intents.detect_intent("too small").intent == "return_request"  # a reason alone is a return


def test_order_ids_in_text():
    assert intents.extract_order_ids("order ATL-1001 and #100234 on 12/05/2026, see https://x.example/ORD-999") == [
        "ATL-1001", "100234"]
    assert intents.extract_order_ids("I waited 40 days") == []


def test_evidence_links_and_simulated_attachments():
    found = intents.extract_evidence("here: https://img.example/a.jpg). [photo] [video: unboxing] [receipt]")
    assert found == ["https://img.example/a.jpg", "test-attachment://photo.jpg", "test-attachment://unboxing.mp4",
                     "test-attachment://receipt-receipt.pdf"]


def test_persona_config_is_validated_per_provider():
    clean, problems = personas.validate_config("elevenlabs", {"persona_name": "Ava", "voice_id": "v1", "stability": 3})
    assert clean is None and set(problems) == {"voice_id", "stability"}
    clean, problems = personas.validate_config("tavus", {"persona_name": "Max", "replica_id": "r_max_0001",
                                                          "tone": "formal", "custom_key": 1})
    assert problems == {} and clean["custom_key"] == 1 and clean["tone"] == "formal"
    assert "provider" in personas.validate_config("vapi", {})[1]


def test_persona_style_reads_other_tools_key_names():
    style = personas.persona_style("Support voice", {"name": "Zoe", "first_message": "Hey, Zoe here!",
                                                     "personality": "very empathetic", "escalation": "bogus"})
    assert (style.persona_name, style.greeting, style.tone, style.escalation) == (
        "Zoe", "Hey, Zoe here!", "empathetic", "offer_human")
    assert personas.persona_style("Plain", {}).persona_name == "Plain"


class _FakeLLM(BaseHTTPRequestHandler):
    answer: str = ""
    seen: list = []

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).seen.append((self.path, self.headers.get("Authorization"), body))
        payload = json.dumps({"choices": [{"message": {"content": type(self).answer}}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def llm(monkeypatch):
    server = HTTPServer(("127.0.0.1", 0), _FakeLLM)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("DOKANI_AGENT_LLM_URL", f"http://127.0.0.1:{server.server_port}/v1")
    monkeypatch.setenv("DOKANI_AGENT_LLM_MODEL", "test-model")
    monkeypatch.setenv("DOKANI_AGENT_LLM_API_KEY", "k")
    _FakeLLM.seen = []
    yield _FakeLLM
    server.shutdown()


STYLE = personas.PersonaStyle(persona_name="Ava")
REPLY = "Good news: Your return for order ATL-1001 (Trail jacket) is approved. Your reference is test return #7."


def test_phrasing_is_off_by_default(monkeypatch):
    monkeypatch.delenv("DOKANI_AGENT_LLM_URL", raising=False)
    assert phrasing.phrase(REPLY, STYLE) == (REPLY, "rules")


def test_a_faithful_rephrasing_is_used(llm):
    llm.answer = "Great news! Order ATL-1001 (Trail jacket) is approved - reference test return #7."
    assert phrasing.phrase(REPLY, STYLE) == (llm.answer, "llm")
    path, auth, body = llm.seen[0]
    assert path == "/v1/chat/completions" and auth == "Bearer k" and body["model"] == "test-model"


def test_a_rephrasing_that_changes_the_decision_or_drops_a_fact_is_refused(llm):
    llm.answer = "Great news! Your return is denied."
    assert phrasing.phrase(REPLY, STYLE) == (REPLY, "rules")
    llm.answer = "Great news! Your jacket return is approved."  # order id and reference lost
    assert phrasing.phrase(REPLY, STYLE) == (REPLY, "rules")


def test_an_unreachable_endpoint_falls_back(monkeypatch):
    monkeypatch.setenv("DOKANI_AGENT_LLM_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("DOKANI_AGENT_LLM_MODEL", "m")
    monkeypatch.setenv("DOKANI_AGENT_LLM_TIMEOUT", "1")
    assert phrasing.phrase(REPLY, STYLE) == (REPLY, "rules")
