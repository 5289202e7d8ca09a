"""``python -m dokani import-calls`` and ``webhook-secret`` as an operator runs them."""
from __future__ import annotations

import json

from sqlalchemy import text

from db.demo import business
from db.engine import owner_engine
from dokani.__main__ import main
from tests.calls_fixtures import EL_AUDIO, EL_TRANSCRIPTION, FIXTURES, TAVUS

ATLAS = str(business("atlas").business_id)


def calls_and_events() -> tuple[int, int]:
    with owner_engine().connect() as conn:
        return (conn.execute(text("SELECT count(*) FROM call_sessions")).scalar(),
                conn.execute(text("SELECT count(*) FROM call_events")).scalar())


def test_import_calls_imports_every_file_then_nothing_more(fresh_db, capsys):
    files = [str(FIXTURES / n) for n in (EL_TRANSCRIPTION, EL_AUDIO, *TAVUS)]
    before = calls_and_events()
    assert main(["import-calls", "--business", ATLAS, *files]) == 0
    out = capsys.readouterr().out
    assert "7 event(s) imported" in out and "2 call(s)" in out
    after = calls_and_events()
    assert after == (before[0] + 2, before[1] + 7)
    assert main(["import-calls", "--business", ATLAS, *files]) == 0
    assert "7 already imported" in capsys.readouterr().out
    assert calls_and_events() == after


def test_a_malformed_file_fails_the_whole_import_naming_it(fresh_db, capsys, tmp_path):
    bad = tmp_path / "half_written.json"
    bad.write_text(json.dumps({"type": "post_call_audio", "event_timestamp": 1, "data": {"agent_id": "a"}}))
    before = calls_and_events()
    code = main(["import-calls", "--business", ATLAS, str(FIXTURES / EL_TRANSCRIPTION), str(bad)])
    err = capsys.readouterr().err
    assert code == 2 and "half_written.json" in err and "conversation_id" in err and "Traceback" not in err
    assert calls_and_events() == before


def test_unknown_business_and_missing_file(fresh_db, capsys):
    assert main(["import-calls", "--business", "not-a-uuid", str(FIXTURES / EL_AUDIO)]) == 2
    assert "UUID" in capsys.readouterr().err
    assert main(["import-calls", "--business", ATLAS, "nope.json"]) == 2
    assert "nope.json: no such file" in capsys.readouterr().err


def test_webhook_secret_prints_a_new_secret_or_the_tavus_url(fresh_db, capsys):
    assert main(["webhook-secret", "--business", ATLAS, "--provider", "elevenlabs"]) == 0
    out = capsys.readouterr().out
    assert "HMAC secret: wsec_" in out
    assert main(["webhook-secret", "--business", ATLAS, "--provider", "tavus", "--base-url", "https://c.example"]) == 0
    assert "Tavus callback URL: https://c.example/webhooks/tavus/" in capsys.readouterr().out
    assert main(["webhook-secret", "--business", ATLAS, "--provider", "elevenlabs", "--secret", "short"]) == 2
    assert "at least 16" in capsys.readouterr().err
    with owner_engine().connect() as conn:
        rows = conn.execute(text("SELECT provider, secret IS NOT NULL, token_sha256 IS NOT NULL FROM call_webhook_secrets "
                                 "WHERE business_id = :b ORDER BY provider"), {"b": ATLAS}).all()
    assert [tuple(r) for r in rows] == [("elevenlabs", True, False), ("tavus", False, True)]
