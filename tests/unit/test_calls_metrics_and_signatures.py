"""Metrics computed on import and the ElevenLabs signature check, without a database."""
from __future__ import annotations

import copy
import json
import time

import pytest

from dokani.calls import elevenlabs, tavus
from dokani.calls.metrics import Turn, call_metrics, percentile
from dokani.calls.webhooks import parse_signature, sign, signature_matches
from dokani.errors import Invalid
from tests.calls_fixtures import EL_TRANSCRIPTION, TAVUS, payload


def test_gaps_silence_and_talk_time_from_turn_starts():
    turns = [Turn(speaker="agent", message="hello there", at_seconds=0),          # 2 words: 0.8 s
             Turn(speaker="customer", message="one two three four five", at_seconds=3),  # 2 s, ends at 5
             Turn(speaker="agent", message="ok", at_seconds=9),                  # gap 4 s after the customer
             Turn(speaker="customer", message="bye", at_seconds=10)]
    m = call_metrics(turns, duration_s=12, cost=10, cost_unit="credits")
    assert m["turns"] == 4 and m["duration_s"] == 12 and m["cost"] == 10
    assert m["agent_response_gap_s_p50"] == 4.0 and m["latency_ms_p50"] == 4000
    assert m["longest_silence_s"] == 4.0
    assert m["talk_time_s"] == {"agent": 1.2, "customer": 2.4}


def test_untimed_transcripts_have_no_gaps():
    m = call_metrics([Turn(speaker="agent", message="hi"), Turn(speaker="customer", message="hello")], None)
    assert m["agent_response_gap_s_p50"] is None and m["longest_silence_s"] is None and "latency_ms_p50" not in m


def test_percentile_interpolates():
    assert percentile([1, 2, 3, 4], 0.5) == 2.5 and percentile([], 0.5) is None


def test_signature_header_with_several_v0():
    body = b'{"a":1}'
    good = sign("s3cret-s3cret-123", body, t=1000)
    t, sigs = parse_signature(f"t=1000,v0={'f' * 64},{good.split(',')[1]}")
    assert t == 1000 and len(sigs) == 2
    assert signature_matches("s3cret-s3cret-123", t, body, sigs)
    assert not signature_matches("other-secret-xyz", t, body, sigs)
    assert parse_signature("v0=abc") is None and parse_signature(None) is None and parse_signature("t=1") is None


def test_unknown_fields_are_tolerated_missing_ones_refused():
    doc = payload(EL_TRANSCRIPTION)
    assert elevenlabs.parse(doc).turns  # the fixture carries unknown fields
    broken = copy.deepcopy(doc)
    del broken["data"]["conversation_id"]
    with pytest.raises(Invalid, match="conversation_id"):
        elevenlabs.parse(broken)
    audio = {"type": "post_call_audio", "event_timestamp": int(time.time()),
             "data": {"agent_id": "a", "conversation_id": "c", "full_audio": "***not base64***"}}
    with pytest.raises(Invalid, match="base64"):
        elevenlabs.parse(audio)


def test_tavus_prompt_is_not_speech_and_unknown_types_are_refused():
    ev = tavus.parse(payload(TAVUS[1]))
    assert ev.prompt.startswith("You are Nora") and [t.speaker for t in ev.turns] == ["agent", "customer"] * 2
    other = dict(payload(TAVUS[0]), event_type="conversation.utterance")
    with pytest.raises(Invalid, match="event_type"):
        tavus.parse(json.loads(json.dumps(other)))
