"""Realistic ElevenLabs / Tavus payloads (tests/fixtures/calls) and a helper importing them as a member."""
from __future__ import annotations

import json
from pathlib import Path

from db.uow import Actor, unit_of_work

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "calls"
EL_TRANSCRIPTION = "elevenlabs_post_call_transcription.json"
EL_AUDIO = "elevenlabs_post_call_audio.json"
EL_FAILURE = "elevenlabs_call_initiation_failure.json"
TAVUS = ["tavus_system_replica_joined.json", "tavus_application_transcription_ready.json",
         "tavus_application_recording_ready.json", "tavus_application_perception_analysis.json",
         "tavus_system_shutdown.json"]
EL_CONVERSATION = "conv_01jz8kq4w6e3r9tx5m2n7b"
TAVUS_CONVERSATION = "c7f3a9e21b04"


def payload(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def file(name: str, doc: dict | None = None) -> tuple[str, bytes]:
    return name, json.dumps(doc if doc is not None else payload(name)).encode()


def import_files(actor: Actor, files: list[tuple[str, bytes]]):
    from dokani.calls.service import import_call_files

    with unit_of_work(actor) as uow:
        summary = import_call_files(uow, files, source="file")
        uow.commit()
    return summary
