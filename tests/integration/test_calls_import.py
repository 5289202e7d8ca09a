"""Importing ElevenLabs and Tavus events: the rows a user sees, idempotence, all-or-nothing."""
from __future__ import annotations

import copy

import pytest
from sqlalchemy import text

from db.engine import owner_engine
from dokani.errors import Invalid, NotAllowed
from tests.calls_fixtures import (EL_AUDIO, EL_CONVERSATION, EL_FAILURE, EL_TRANSCRIPTION, TAVUS,
                                  TAVUS_CONVERSATION, file, import_files, payload)
from tests.conftest import actor_for

COUNTED = ("call_sessions", "call_transcripts", "call_analytics", "audio_chunks", "video_analysis",
           "conversation_sessions", "conversation_messages", "ai_conversation_state", "streaming_sessions",
           "call_events", "call_return_links")


def counts() -> dict[str, int]:
    with owner_engine().connect() as conn:
        return {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in COUNTED}


def one(sql: str, **params):
    with owner_engine().connect() as conn:
        return conn.execute(text(sql), params).mappings().first()


def test_elevenlabs_call_is_imported_with_transcript_metrics_audio_and_state(fresh_db, atlas_owner):
    summary = import_files(atlas_owner, [file(EL_TRANSCRIPTION), file(EL_AUDIO)])
    assert summary.imported == 2 and summary.duplicates == 0
    call = one("SELECT c.*, p.config_name FROM call_sessions c JOIN provider_configs p ON p.id = c.persona_config_id "
               "WHERE elevenlabs_conversation_id = :c", c=EL_CONVERSATION)
    assert call["config_name"] == "Ava (warm voice)" and call["status"] == "completed"
    assert call["duration_seconds"] == 52 and call["call_type"] == "voice"
    assert call["webhook_data"]["post_call_transcription"]["call_successful"] == "success"
    lines = one("SELECT count(*) AS n, min(message) FILTER (WHERE speaker = 'customer' AND timestamp_seconds = 41) AS m "
                "FROM call_transcripts WHERE call_session_id = :c", c=call["id"])
    assert lines["n"] == 8 and lines["m"] == "Great, thank you <b>so</b> much!"
    metrics = one("SELECT metrics, events FROM call_analytics WHERE call_session_id = :c", c=call["id"])
    m = metrics["metrics"]
    assert m["turns"] == 8 and m["duration_s"] == 52 and m["cost"] == 412 and m["resolution"] == "resolved"
    assert set(m["talk_time_s"]) == {"agent", "customer"} and m["agent_response_gap_s_p50"] is not None
    assert m["evaluation"] == {"issue_resolved": "success", "policy_cited": "failure"}
    assert [e["type"] for e in metrics["events"]] == ["post_call_transcription", "post_call_audio"]
    audio = one("SELECT format, length(audio_data) AS n FROM audio_chunks WHERE session_id = :c", c=call["id"])
    assert audio["format"] == "mp3" and audio["n"] == len(payload(EL_AUDIO)["data"]["full_audio"])
    ledger = one("SELECT payload #>> '{data,full_audio}' AS a FROM call_events WHERE event_type = 'post_call_audio'")
    assert ledger["a"] == "(stored in audio_chunks)"  # one copy of the MP3, not two
    state = one("SELECT s.current_intent, cs.channel, cs.customer_email, cs.status, "
                "(SELECT count(*) FROM conversation_messages m WHERE m.session_id = cs.id) AS messages "
                "FROM ai_conversation_state s JOIN conversation_sessions cs ON cs.id = s.session_id WHERE s.id = :s",
                s=call["ai_conversation_state_id"])
    assert dict(state) == {"current_intent": "refund_request", "channel": "voice",
                           "customer_email": "maria.lopez@example.com", "status": "closed", "messages": 8}


def test_the_same_events_twice_change_nothing(fresh_db, atlas_owner):
    files = [file(EL_TRANSCRIPTION), file(EL_AUDIO), *[file(n) for n in TAVUS]]
    import_files(atlas_owner, files)
    before = counts()
    again = import_files(atlas_owner, files)
    assert again.imported == 0 and again.duplicates == 7
    assert counts() == before


def test_tavus_callbacks_build_one_video_call(fresh_db, atlas_owner):
    import_files(atlas_owner, [file(n) for n in reversed(TAVUS)])  # any order: sorted by event time
    call = one("SELECT * FROM call_sessions WHERE tavus_conversation_id = :c", c=TAVUS_CONVERSATION)
    assert call["status"] == "completed" and call["call_type"] == "video" and call["duration_seconds"] == 242
    assert call["provider_data"]["termination_reason"] == "participant_left_timeout"
    speakers = one("SELECT array_agg(speaker ORDER BY stream_sequence) AS s FROM call_transcripts "
                   "WHERE call_session_id = :c", c=call["id"])["s"]
    assert speakers == ["agent", "customer", "agent", "customer"]  # the system prompt is not speech
    prompt = one("SELECT conversation_context ->> 'prompt' AS p FROM ai_conversation_state WHERE id = :s",
                 s=call["ai_conversation_state_id"])["p"]
    assert prompt.startswith("You are Nora")
    assert one("SELECT analysis_data ->> 'analysis' AS a FROM video_analysis WHERE session_id = :c",
               c=call["id"])["a"].startswith("The user held up")
    assert one("SELECT audio_data FROM audio_chunks WHERE session_id = :c", c=call["id"])["audio_data"].startswith(
        "s3://atlas-tavus-recordings/")
    assert one("SELECT status FROM streaming_sessions WHERE call_session_id = :c", c=call["id"])["status"] == "ended"


def test_initiation_failure_is_a_failed_call(fresh_db, atlas_owner):
    import_files(atlas_owner, [file(EL_FAILURE)])
    call = one("SELECT status, duration_seconds, provider_data ->> 'error' AS error FROM call_sessions "
               "WHERE elevenlabs_conversation_id = 'conv_01jz9fail0000000000000'")
    assert dict(call) == {"status": "failed", "duration_seconds": 0, "error": "busy"}


def test_a_malformed_file_among_good_ones_writes_nothing(fresh_db, atlas_owner):
    bad = payload(EL_TRANSCRIPTION)
    del bad["data"]["metadata"]["call_duration_secs"]
    before = counts()
    with pytest.raises(Invalid) as err:
        import_files(atlas_owner, [file(EL_AUDIO), file("broken.json", bad), ("notjson.json", b"{oops")])
    assert "broken.json" in str(err.value) and "call_duration_secs" in str(err.value)
    assert "notjson.json" in err.value.problems
    assert counts() == before


def test_an_agent_of_no_persona_is_refused_naming_the_id(fresh_db, atlas_owner):
    doc = copy.deepcopy(payload(EL_TRANSCRIPTION))
    doc["data"]["agent_id"] = "agent_nobody"
    before = counts()
    with pytest.raises(Invalid, match="agent_nobody"):
        import_files(atlas_owner, [file(EL_AUDIO), file("x.json", doc)])
    assert counts() == before


def test_another_business_cannot_import_atlas_agents(fresh_db, bloom_owner):
    with pytest.raises(Invalid, match="agent_atlas_ava"):
        import_files(bloom_owner, [file(EL_TRANSCRIPTION)])


def test_reviewers_cannot_import(fresh_db):
    with pytest.raises(NotAllowed):
        import_files(actor_for("atlas", "reviewer"), [file(EL_TRANSCRIPTION)])
